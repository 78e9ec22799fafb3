import assert from "node:assert/strict";
import { htmlToText } from "./html_text.ts";

/** What the preview did before: the same answers, but backtracking on hostile text. */
const patterns = (t: string) =>
  t.replace(/<(style|script)[^>]*>[^]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ");

Deno.test("htmlToText: the answers of the patterns it replaces, in linear time", () => {
  assert.equal(
    htmlToText(`<STYLE a>p{}</style><p>Hi <b>Bob</b></p><script>x</SCRIPT>!`),
    "  Hi  Bob   !",
  );
  const toks = ["<", ">", "<style", "<STYLE", "<script", "</style>", "</script>", "x", " ", "/"];
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let t = 0; t < 20_000; t++) {
    const s = Array.from({ length: rnd(14) }, () => toks[rnd(toks.length)]).join("");
    assert.equal(htmlToText(s), patterns(s), JSON.stringify(s));
  }
  const t0 = performance.now();
  for (const s of ["<".repeat(1_000_000), "<style>".repeat(200_000), "<style".repeat(200_000)]) {
    htmlToText(s);
  }
  assert.ok(performance.now() - t0 < 3000, "htmlToText took too long");
});
