import assert from "node:assert/strict";
import fc from "fast-check";
import { parseMail } from "./parse.ts";
import { MAX_TOKENS, shapeOf, tokenize } from "./tokenize.ts";

/** One word by the rule as first written. */
function referenceWord(w: string, out: string[]): void {
  w = w.replace(/^['%.\-_]+|['.\-_]+$/g, "");
  if (w.length < 3) return;
  out.push(w.length > 13 ? `skip:${w[0]}${Math.floor(w.length / 10) * 10}` : w);
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u1100-\u11ff\uf900-\ufaff\uff66-\uff9f]/;

/**
 * The word rule as first written (one regex split), CJK runs cut into character pairs (at
 * most 30 distinct) and the pieces between: the scanner must give the same tokens.
 */
function referenceWords(text: string): string[] {
  const out: string[] = [];
  const pairs = new Set<string>();
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}'$€£%.\-_]+/u)) {
    if (!CJK.test(w)) {
      referenceWord(w, out);
      continue;
    }
    // Pieces between CJK characters are words; CJK characters pair with their neighbour.
    const units = w.split("");
    let piece = "";
    units.forEach((u, k) => {
      if (!CJK.test(u)) return void (piece += u);
      referenceWord(piece, out);
      piece = "";
      const next = units[k + 1];
      if (next !== undefined && CJK.test(next)) {
        if (pairs.size < 30 && !pairs.has(u + next)) pairs.add(u + next), out.push(u + next);
      } else if (k === 0 || !CJK.test(units[k - 1])) out.push(u);
    });
    referenceWord(piece, out);
  }
  return out;
}

/** The body words tokenize() finds for a text (other tokens have a prefix with ":"). */
function bodyWords(text: string): string[] {
  const m = parseMail(new TextEncoder().encode("Subject:\r\n\r\n"));
  m.texts = [{ subtype: "plain", text, encoding: "7bit", charset: "utf-8" }];
  return [...tokenize(m)].filter((t) => !t.includes(":") || t.startsWith("skip:"));
}

const pieces = [
  "a",
  "Q",
  "zz",
  "0",
  "42",
  "'",
  "$",
  "€",
  "£",
  "%",
  ".",
  "-",
  "_",
  " ",
  "\n",
  "!",
  ",",
  "é",
  "İ",
  "ß",
  "Σ",
  "中",
  "文",
  "ひ",
  "한",
  "٣",
  "ﬀ",
  "𝐀",
  "😀",
  "\ud800",
  "\udc00",
  "abcdefghijklmnopq",
]; // deno-fmt-ignore

Deno.test("spam tokenizer: words", async (t) => {
  await t.step("the same words as the regex rule, for any text", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 80 }), (parts) => {
        const text = parts.join("");
        const want = [...new Set(referenceWords(text))];
        assert.deepEqual(bodyWords(text), want);
      }),
      { numRuns: 2000 },
    );
  });
  await t.step("marks inside words stay, at the edges go", () => {
    assert.deepEqual(bodyWords("Don't e-mail 3.5% ...free... 'quoted' $100"), [
      "don't",
      "e-mail",
      "3.5%",
      "free",
      "quoted",
      "$100",
    ]);
  });
  await t.step("repeats and a full span table change nothing", () => {
    // 3000 distinct spans that trim to nothing fill the repeat table (plugins/builtin/spam/tokenize.ts
    // SpanTable); the words after it must still all be found, once each.
    const letters = "abcdefghijklmnopqrstuvwxyz";
    const filler = Array.from(
      { length: 3000 },
      (_, i) => `${letters[i % 26]}${letters[Math.floor(i / 26) % 26]}${"-".repeat(1 + (i / 676 | 0))}`,
    ).join(" ");
    const text = `${filler} alpha beta alpha gamma ${filler} beta delta`;
    assert.deepEqual(bodyWords(text), [...new Set(referenceWords(text))]);
    assert.deepEqual(bodyWords("spam spam SPAM spam-spam spam"), ["spam", "spam-spam"]);
  });
  await t.step("at most MAX_TOKENS tokens", () => {
    const text = Array.from({ length: 3 * MAX_TOKENS }, (_, i) => `w${i}x`).join(" ");
    assert.ok(tokenize(parseMail(new TextEncoder().encode(`Subject: s\r\n\r\n${text}\r\n`))).size <= MAX_TOKENS);
  });
});

Deno.test("tokenize v2: token classes that outlive one campaign", () => {
  const raw = new TextEncoder().encode(
    "Return-Path: <bounce-77@mailer.Example.com>\r\nFrom: a@b.example\r\n" +
      "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\nSubject: V1agra now\r\n" +
      'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n' +
      "--b\r\nContent-Type: text/plain\r\n\r\nonly $99.95 for v1agra\r\n" +
      "--b\r\nContent-Type: text/html\r\n\r\n<p>only</p>\r\n--b--\r\n",
  );
  const t = tokenize(parseMail(raw));
  // The tool that wrote it, digits made 9.
  assert.ok(t.has("hv:x-mailer:microsoft outlook express 9.99.9999.9999"), [...t].join(" "));
  assert.ok(t.has("hv:mime-version:9.9"));
  // The envelope sender's domain and its parents.
  assert.ok(t.has("rp:dom:example.com") && t.has("rp:dom:mailer.example.com"));
  // The MIME tree's shape.
  assert.ok(t.has("mime:multipart/alternative(text/plain,text/html)"));
  // Character-class shapes of disguised words (subject and body keep apart).
  assert.ok(t.has("shape:s:a9a") && t.has("shape:a9a") && t.has("shape:$9.9"));
  // A plain word or number has no shape token.
  assert.equal(shapeOf("only"), null);
  assert.equal(shapeOf("2002"), null);
  assert.equal(shapeOf("v1agra"), "a9a");
});

Deno.test("tokenize v5: Chinese, Japanese and Korean as character pairs; scripts", async (t) => {
  await t.step("pairs of CJK characters, the Latin pieces between as words", () => {
    assert.deepEqual(bodyWords("欢迎您 tel 2003年4月 한국어"), [
      "欢迎",
      "迎您",
      "tel",
      "2003",
      "年",
      "月",
      "한국",
      "국어",
    ]);
  });
  await t.step("at most 30 new pairs from one message", () => {
    const many = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x4e00 + i)).join("");
    const pairs = bodyWords(`${many} ${many}`);
    assert.equal(pairs.length, 30);
  });
  await t.step("the scripts a message is written in, with their share", () => {
    const raw = new TextEncoder().encode(
      "Subject: 新产品\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n我们的新产品 new products\r\n",
    );
    const tokens = [...tokenize(parseMail(raw))].filter((x) => x.startsWith("script:"));
    assert.deepEqual(tokens.sort(), ["script:han", "script:han:10"]);
    const english = tokenize(
      parseMail(new TextEncoder().encode("Subject: hi\r\n\r\nplain words\r\n")),
    );
    assert.ok(![...english].some((x) => x.startsWith("script:")));
  });
  await t.step("a subject without cased letters is not in capitals", () => {
    const subject = (s: string) =>
      tokenize(parseMail(new TextEncoder().encode(`Subject: ${s}\r\n\r\nbody\r\n`)));
    // A Japanese subject (hard ham: a letter between colleagues) has no case at all.
    assert.ok(!subject("=?utf-8?B?5pel5pys6Kqe44Gu5Lya6K2w?=").has("s:(allcaps)"));
    assert.ok(subject("FREE MONEY NOW").has("s:(allcaps)"));
    assert.ok(!subject("Free money now").has("s:(allcaps)"));
  });
});
