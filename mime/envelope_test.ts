import assert from "node:assert/strict";
import { envelope, parseMime } from "./mod.ts";

Deno.test("envelope: 9,000 From fields merge in linear work", () => {
  // Found by mutational fuzzing (a From line repeated 10,000 times, the most fields kept): each field's
  // addresses were concatenated onto a copy of the list so far, ~10^8 copies, 0.7 s.
  const bytes = new TextEncoder().encode(
    "From: a@x.test, b@x.test\r\n".repeat(9_000) + "Subject: s\r\n\r\nbody\r\n",
  );
  const root = parseMime(bytes);
  const concat = Array.prototype.concat;
  let copied = 0;
  Array.prototype.concat = function (this: unknown[], ...rest: unknown[]) {
    const out = concat.apply(this, rest);
    copied += out.length;
    return out;
  };
  let env: string;
  try {
    env = envelope(root);
  } finally {
    Array.prototype.concat = concat;
  }
  assert.ok(copied < 100_000, `${copied} array elements copied`);
  // Every address kept, in order: from, and sender and reply-to defaulting to it.
  const one = '(NIL NIL "a" "x.test")(NIL NIL "b" "x.test")';
  const list = `(${one.repeat(9_000)})`;
  const want = `(NIL "s" ${list} ${list} ${list} NIL NIL NIL NIL NIL)`;
  assert.ok(env === want, `${env.slice(0, 100)}... is not ${want.slice(0, 100)}...`);
});
