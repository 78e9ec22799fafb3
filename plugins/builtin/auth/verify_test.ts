import assert from "node:assert/strict";
import { crlfBuffer } from "./verify.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("crlfBuffer", async (t) => {
  await t.step("turns bare LF into CRLF and keeps CRLF and bare CR", () => {
    const cases: Array<[string, string]> = [
      ["a\nb\r\nc\rd\n", "a\r\nb\r\nc\rd\r\n"],
      ["\n\nbody", "\r\n\r\nbody"],
      ["\r\n\n", "\r\n\r\n"],
      ["", ""],
    ];
    for (const [input, want] of cases) {
      assert.equal(dec.decode(crlfBuffer(enc.encode(input))), want);
    }
  });
  await t.step("a message already in CRLF is not copied", () => {
    const raw = enc.encode("Subject: x\r\n\r\nbody\r\n").subarray(2);
    const out = crlfBuffer(raw);
    assert.equal(out.buffer, raw.buffer);
    assert.equal(out.byteOffset, raw.byteOffset);
    assert.equal(out.length, raw.length);
  });
});

Deno.test("verifyMessage: an oversized signature field is a permerror, not seconds of parsing", async () => {
  const { verifyMessage } = await import("./verify.ts");
  const { mailauthResolver } = await import("./resolver.ts");
  const { parseHeaders } = await import("../../engine/message.ts");
  // SPF of example.com passes for 192.0.2.1; nothing else is published.
  const resolver = mailauthResolver({
    resolve: (name: string, type: string) =>
      Promise.resolve(
        name === "example.com" && type === "TXT" ? ["v=spf1 ip4:192.0.2.1 -all"] : [],
      ),
  } as never);
  const check = async (signature: string) => {
    const raw = enc.encode(
      `DKIM-Signature: ${signature}\r\nFrom: a@example.com\r\nSubject: s\r\n\r\nbody\r\n`,
    );
    const t0 = performance.now();
    const out = await verifyMessage(
      {
        raw,
        ip: "192.0.2.1",
        helo: "mx.example.com",
        sender: "a@example.com",
        authservId: "mx.test",
        headers: parseHeaders(raw),
      },
      resolver,
      { timeoutMs: 20_000 },
    );
    return { out, ms: performance.now() - t0 };
  };
  const sig = "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=";
  const { out, ms } = await check(sig + " ".repeat(100_000) + "x");
  assert.equal(out.summary.dkim, "permerror");
  assert.match(
    out.header,
    /dkim=permerror \(signature fields over 8192 bytes each or 32768 in all\)/,
  );
  // The rest of the checks still ran: SPF passes, and DMARC has no record to apply.
  assert.equal(out.summary.spf, "pass");
  // mailauth took 3.5 s on this field; under a generous bound for a loaded machine.
  assert.ok(ms < 3000, `took ${ms} ms`);
  // Fields under the limit each, but too many bytes of them together, likewise.
  const many = Array(5).fill(sig + "a".repeat(7000)).join("\r\nDKIM-Signature: ");
  assert.equal((await check(many)).out.summary.dkim, "permerror");
  // An ordinary (broken) signature still goes to mailauth: its verdict, not ours.
  const normal = await check(sig + "abc");
  assert.notEqual(normal.out.summary.dkim, "none");
  assert.doesNotMatch(normal.out.header, /over 8192 bytes/);
});
