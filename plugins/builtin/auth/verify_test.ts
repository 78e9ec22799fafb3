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
