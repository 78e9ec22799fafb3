import assert from "node:assert/strict";
import { containsText, findText } from "./find_text.ts";

Deno.test("findText: the same answers as indexOf", () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const word = (len: number, alphabet: string) =>
    Array.from({ length: len }, () => alphabet[rnd(alphabet.length)]).join("");
  for (let t = 0; t < 3000; t++) {
    const alphabet = t % 2 ? "ab" : "abé😀";
    const text = word(rnd(200), alphabet);
    const needle = t % 3 === 0 && text.length > 40
      ? text.slice(rnd(20), 20 + rnd(text.length - 20)) // often present, often long
      : word(rnd(80), alphabet);
    const from = rnd(10);
    assert.equal(findText(text, needle, from), text.indexOf(needle, from), `${text} / ${needle}`);
    assert.equal(containsText(text, needle), text.includes(needle));
  }
  assert.equal(findText("abc", ""), 0);
  assert.equal(findText("", "a".repeat(40)), -1);
});

Deno.test("findText: a long periodic needle over a long periodic text is linear", () => {
  // V8's indexOf took over 10 s on this (1 MB of "a", needle a^30000 b a^30000).
  const text = "a".repeat(1_000_000);
  const needle = "a".repeat(30_000) + "b" + "a".repeat(30_000);
  const t0 = performance.now();
  assert.equal(findText(text, needle), -1);
  assert.equal(findText(text + needle, needle), 1_000_000);
  assert.ok(performance.now() - t0 < 3000, "findText took too long");
});
