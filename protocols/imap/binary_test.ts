import assert from "node:assert/strict";
import { decodeBody, findPart, parseMime } from "../../mime/mod.ts";
import { encodeBinaryParts } from "./binary.ts";

const enc = new TextEncoder();
const bin = new Uint8Array([0, 0x2d, 0xe4, 10, 13, 10, 10]);
const join = (...p: Array<string | Uint8Array>) => {
  const parts = p.map((x) => typeof x === "string" ? enc.encode(x) : x);
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

Deno.test("binary APPEND content (RFC 3516 §4.4)", async (t) => {
  await t.step("no NUL: the same bytes", () => {
    const m = enc.encode("Subject: x\r\n\r\nhello\r\n");
    assert.equal(encodeBinaryParts(m), m);
  });

  await t.step("a single part with NUL becomes base64, decoding to the same octets", () => {
    const m = join(
      "From: a@b\r\nContent-Type: application/octet-stream\r\n",
      "Content-Transfer-Encoding: binary\r\n\r\n",
      bin,
    );
    const out = encodeBinaryParts(m);
    assert.ok(!out.includes(0));
    const text = new TextDecoder().decode(out);
    assert.match(text, /\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3kCg0KCg==$/);
    const root = parseMime(out);
    assert.equal(root.encoding, "base64");
    assert.deepEqual(decodeBody(out, root), bin);
  });

  await t.step("a message that is not MIME gets MIME-Version too (RFC 2045 §4)", () => {
    const out = encodeBinaryParts(join("Subject: x\r\n\r\n", bin));
    assert.match(
      new TextDecoder().decode(out),
      /^Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n/,
    );
    const root = parseMime(out);
    assert.equal(root.encoding, "base64");
    assert.deepEqual(decodeBody(out, root), bin);
  });

  await t.step("in a multipart, only the NUL part changes; a missing CTE is added", () => {
    const m = join(
      "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n",
      "hello\r\n--x\r\nContent-Type: application/octet-stream\r\n\r\n",
      bin,
      "\r\n--x--\r\n",
    );
    const out = encodeBinaryParts(m);
    const root = parseMime(out);
    const p1 = findPart(root, [1])!;
    const p2 = findPart(root, [2])!;
    assert.equal(new TextDecoder().decode(out.subarray(p1.bodyStart, p1.bodyEnd)), "hello");
    assert.equal(p2.encoding, "base64");
    assert.deepEqual(decodeBody(out, p2), bin);
    assert.match(new TextDecoder().decode(out), /AC3kCg0KCg==\r\n--x--\r\n$/);
  });
});
