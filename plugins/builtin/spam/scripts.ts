/**
 * Tokens of writing systems (issue 21): Chinese, Japanese and Korean as pairs of characters
 * (they have no spaces, or short words, so a "word" of the tokenizer would be a whole
 * sentence that no other message repeats), and which scripts a message is written in.
 * The classifier learns what they mean for the site: no script is spam by itself here.
 * Pure.
 *
 * @module
 */
import type { ParsedMail } from "./parse.ts";

/** Han, kana, Hangul (syllables and jamo), CJK compatibility ideographs, half-width kana. */
export function isCjk(c: number): boolean {
  return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x9fff) ||
    (c >= 0xac00 && c <= 0xd7af) || (c >= 0x1100 && c <= 0x11ff) ||
    (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff66 && c <= 0xff9f);
}

/**
 * Character pairs taken from one message. All of them would outvote everything else (a
 * Chinese letter has hundreds, and two Japanese ham taught the hard-ham-held-out model that
 * Japanese is ham, 3 more spam of a Japanese campaign missed on campaigns held out); the
 * first few dozen tell the language and the subject (20 to 50 measured the same).
 */
const MAX_PAIRS = 30;
let pairBudget = 0;

/** Starts a message's budget of character pairs. */
export function newPairBudget(): void {
  pairBudget = MAX_PAIRS;
}

/**
 * Tokens of a run of word characters holding CJK: each new pair of neighbouring CJK
 * characters while the message's budget lasts (a lone one alone); the pieces between go to
 * `piece` (the tokenizer's word rule).
 */
export function cjkPairs(
  s: string,
  start: number,
  end: number,
  prefix: string,
  out: Set<string>,
  piece: (start: number, end: number) => void,
): void {
  let from = start;
  for (let k = start; k < end; k++) {
    if (!isCjk(s.charCodeAt(k))) continue;
    if (k > from) piece(from, k);
    const pair = k + 1 < end && isCjk(s.charCodeAt(k + 1));
    if (pair) {
      const t = prefix + s.slice(k, k + 2);
      if (pairBudget > 0 && !out.has(t)) {
        out.add(t);
        pairBudget--;
      }
    } else if (k === start || !isCjk(s.charCodeAt(k - 1))) out.add(prefix + s[k]);
    from = k + 1;
  }
  if (end > from) piece(from, end);
}

/** Scripts told apart by {@link scriptTokens}, by code point range. */
function scriptOf(c: number): string | null {
  if (c < 0x80) return ((c | 0x20) - 97) >>> 0 < 26 ? "latin" : null;
  if (c >= 0xc0 && c <= 0x24f) return c === 0xd7 || c === 0xf7 ? null : "latin-ext";
  if (c >= 0x370 && c <= 0x3ff) return "greek";
  if (c >= 0x400 && c <= 0x4ff) return "cyrillic";
  if (c >= 0x590 && c <= 0x5ff) return "hebrew";
  if (c >= 0x600 && c <= 0x6ff) return "arabic";
  if (c >= 0xe00 && c <= 0xe7f) return "thai";
  if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0xff66 && c <= 0xff9f)) return "kana";
  if ((c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff)) return "han";
  if ((c >= 0xac00 && c <= 0xd7af) || (c >= 0x1100 && c <= 0x11ff)) return "hangul";
  return null;
}

/**
 * Which scripts a message is written in and how much of it (`script:han`, `script:han:50`:
 * at least half its letters): the language of a message carries over from one campaign to
 * the next. No script is spam or ham by itself here: the classifier
 * learns what the site's own mail is written in (issue 21).
 */
export function scriptTokens(m: ParsedMail, out: Set<string>): void {
  const counts = new Map<string, number>();
  let letters = 0;
  for (const text of [m.subject, ...m.texts.map((t) => t.text)]) {
    const n = Math.min(text.length, 32768);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const script = scriptOf(c);
      if (script === null) continue;
      letters++;
      counts.set(script, (counts.get(script) ?? 0) + 1);
    }
  }
  for (const [script, n] of counts) {
    if (script === "latin" || n < 3) continue;
    const share = n / letters;
    out.add(`script:${script}`);
    out.add(
      `script:${script}:${share < 0.02 ? "0" : share < 0.1 ? "2" : share < 0.5 ? "10" : "50"}`,
    );
  }
}
