import assert from "node:assert/strict";
import { gunzip, gzip, ruaMailtos } from "./mail.ts";
import { parseResponse } from "../outbound_security/https_get.ts";

Deno.test("rua= mailto: URIs (RFC 8460 §3, RFC 7489 §6.2)", () => {
  assert.deepEqual(
    ruaMailtos("v=TLSRPTv1; rua=mailto:a@x.test,https://r.test/x, mailto:b@y.test!10m"),
    ["a@x.test", "b@y.test"],
  );
  assert.deepEqual(ruaMailtos("v=DMARC1; p=none"), []);
  assert.deepEqual(ruaMailtos("rua=mailto:not-an-address"), []);
});

Deno.test("gzip round trip, bounded gunzip", async () => {
  const data = new TextEncoder().encode("x".repeat(100_000));
  const gz = await gzip(data);
  assert.ok(gz.length < 1000);
  assert.deepEqual(await gunzip(gz, 100_000), data);
  await assert.rejects(() => gunzip(gz, 99_999), /larger than/);
  await assert.rejects(() => gunzip(new Uint8Array([1, 2, 3]), 100));
});

Deno.test("HTTP response parsing (MTA-STS fetch)", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const r = parseResponse(
    enc(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
    ),
  );
  assert.equal(r.status, 200);
  assert.equal(new TextDecoder().decode(r.body), "hello world");
  const c = parseResponse(enc("HTTP/1.0 301 Moved\r\nContent-Length: 2\r\n\r\nabcdef"));
  assert.equal(c.status, 301);
  assert.equal(new TextDecoder().decode(c.body), "ab");
  assert.throws(() => parseResponse(enc("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab")));
  assert.throws(() => parseResponse(enc("garbage\r\n\r\n")), /status line/);
  assert.throws(() =>
    parseResponse(enc("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
  );
});
