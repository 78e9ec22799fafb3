import assert from "node:assert/strict";
import { concatBytes, indexOfBytes } from "./bytes.ts";

const b = (s: string) => new TextEncoder().encode(s);

Deno.test("bytes: concat and search", () => {
  assert.deepEqual(concatBytes([b("ab"), b(""), b("c")]), b("abc"));
  assert.deepEqual(concatBytes([]), new Uint8Array(0));
  assert.deepEqual(concatBytes([b("ab"), b("c")], 3), b("abc"));
  assert.equal(indexOfBytes(b("a\r\nb\r\n\r\nc"), b("\r\n\r\n")), 4);
  assert.equal(indexOfBytes(b("a\r\n\r"), b("\r\n\r\n")), -1);
  assert.equal(indexOfBytes(b("xyxyz"), b("xyz")), 2);
  assert.equal(indexOfBytes(b("abcabc"), b("abc"), 1), 3);
  assert.equal(indexOfBytes(b("abc"), b("")), 0);
});
