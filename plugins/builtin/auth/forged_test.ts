import assert from "node:assert/strict";
import { stripForgedAuthResults } from "./forged.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("auth: Authentication-Results in our name are removed, others kept (RFC 8601 §5)", () => {
  const msg = "Received: from a\r\n\tby b\r\n" +
    "Authentication-Results: MX.Example.Test; dkim=pass\r\n" +
    "Authentication-Results: (forged) mx.example.test 1;\r\n\tspf=pass smtp.mailfrom=x\r\n" +
    "Authentication-Results: other.example; spf=fail\r\n" +
    "Subject: hi\r\n\r\nAuthentication-Results: mx.example.test; in the body stays\r\n";
  const out = dec.decode(stripForgedAuthResults(enc.encode(msg), "mx.example.test"));
  assert.equal(
    out,
    "Received: from a\r\n\tby b\r\n" +
      "Authentication-Results: other.example; spf=fail\r\n" +
      "Subject: hi\r\n\r\nAuthentication-Results: mx.example.test; in the body stays\r\n",
  );
  const clean = enc.encode("Subject: x\r\n\r\nbody\r\n");
  assert.equal(stripForgedAuthResults(clean, "mx.example.test"), clean); // untouched: same array
  const noBody = enc.encode("Authentication-Results: mx.example.test; x=y");
  assert.equal(dec.decode(stripForgedAuthResults(noBody, "mx.example.test")), "");
});
