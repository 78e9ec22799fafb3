import assert from "node:assert/strict";
import { decodeBase64, decodeBody, decodeQuotedPrintable, parseMime } from "./mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("base64 (RFC 2045 §6.8)", async (t) => {
  await t.step("round trip of every byte value, with line breaks", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const b64 = btoa(String.fromCharCode(...all)).replace(/.{76}/g, "$&\r\n");
    assert.deepEqual(decodeBase64(enc(b64)), all);
  });
  await t.step("padding, missing padding, junk characters", () => {
    assert.equal(dec(decodeBase64(enc("aGk="))), "hi");
    assert.equal(dec(decodeBase64(enc("aGk"))), "hi");
    assert.equal(dec(decodeBase64(enc("aG\r\n k*="))), "hi");
    assert.equal(dec(decodeBase64(enc("aGk=aGk="))), "hi");
    assert.equal(decodeBase64(enc("a")).length, 0);
    assert.equal(decodeBase64(enc("")).length, 0);
  });
});

Deno.test("quoted-printable (RFC 2045 §6.7)", () => {
  const cases: [string, string][] = [
    ["Caf=C3=A9", "Café"],
    ["caf=c3=a9", "café"],
    ["soft=\r\nbreak", "softbreak"],
    ["soft=\nbreak", "softbreak"],
    ["soft=  \r\nbreak", "softbreak"],
    ["trailing   \r\nspace", "trailing\r\nspace"],
    ["keep = sign", "keep = sign"],
    ["bad=ZZ", "bad=ZZ"],
    ["end=", "end"],
    ["a\tb", "a\tb"],
    ["end=4", "end=4"],
  ];
  for (const [input, want] of cases) {
    assert.equal(dec(decodeQuotedPrintable(enc(input))), want, input);
  }
});

Deno.test("decodeBody by Content-Transfer-Encoding", () => {
  const msg = (cte: string, body: string) => {
    const bytes = enc(`MIME-Version: 1.0\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${body}`);
    return decodeBody(bytes, parseMime(bytes));
  };
  assert.equal(dec(msg("base64", "aGk=\r\n")!), "hi");
  assert.equal(dec(msg("Quoted-Printable", "a=3Db")!), "a=b");
  assert.equal(dec(msg("8bit", "raw")!), "raw");
  assert.equal(msg("x-uuencode", "begin"), null);
});
