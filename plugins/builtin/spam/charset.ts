/**
 * The charset of 8-bit text that does not say which it is (issue 21: Chinese, Japanese,
 * Korean, Thai and Russian spam often comes without a charset, with `us-ascii`, or with the
 * charset only on the enclosing multipart or in an HTML `<meta>`). Read as windows-1252 such
 * text becomes long runs of accented letters that tokenize into nothing a later message of
 * the same language shares; decoded, it gives words and character pairs that carry over.
 *
 * How: UTF-8 when the bytes are valid UTF-8; ISO-2022-JP when its escape is there; when most
 * 8-bit bytes stand next to other 8-bit bytes (a multi-byte or non-Latin script, not an
 * accent here and there in Latin text), each candidate charset that decodes the bytes
 * without error is scored by how many of the most frequent characters of its language the
 * decoded text holds (a wrong charset gives random characters, rarely the frequent ones);
 * otherwise windows-1252. Pure, never throws, looks at most at the first 16 KB.
 *
 * @module
 */
import { decodeCharset } from "../../../mime/mod.ts";

/** Charset labels that say nothing about 8-bit bytes. */
const UNSAID = new Set(["", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "8bit"]);

/** Whether a declared charset leaves 8-bit bytes to be guessed. */
export function charsetUnsaid(label: string | undefined): boolean {
  return UNSAID.has((label ?? "").trim().toLowerCase());
}

/**
 * Candidates: label, frequent characters of its language, and the least share of the decoded
 * non-ASCII characters that must be among them. Chinese, Japanese and Korean spread over
 * thousands of characters (the few dozen most frequent make 10-30 % of a text, a wrong
 * charset's random characters almost none); Russian and Thai over a few dozen letters, whose
 * most frequent ten make about 60 % of a text (a wrong charset about a third at best).
 */
const CANDIDATES: Array<[string, string, number]> = [
  ["gbk", "的一是不了在人有我他这个们中来上大为和国地到以说时要就出也得里后自会着公司产品", 0.05],
  ["big5", "的一是不了在人有我他這個們中來上大為和國地到以說時要就出也得裡後自會著公司產品", 0.05],
  ["shift_jis", "のにはをたがでてとしれさいるかなもすあうっこまりくおんだ", 0.05],
  ["euc-jp", "のにはをたがでてとしれさいるかなもすあうっこまりくおんだ", 0.05],
  ["euc-kr", "이다는에의을를하고가서니습지한로기도리사시수으", 0.05],
  ["windows-1251", "оеаинтсрвл", 0.4],
  ["koi8-r", "оеаинтсрвл", 0.4],
  ["windows-874", "าเนรอ่กงมยลวบดท้ส", 0.3],
];
const FREQUENT = CANDIDATES.map(([label, chars, least]) =>
  [label, new Set(chars), least, fatal(label)] as const
);

function fatal(label: string): TextDecoder | null {
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    return null; // a runtime without this charset
  }
}

/** Fewer non-ASCII characters than this are too few to tell a charset by. */
const LEAST_CHARS = 8;

const SNIFF_BYTES = 16384;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The charset label that 8-bit `bytes` most likely are in (see the module note). */
export function sniffCharset(bytes: Uint8Array): string {
  const b = bytes.subarray(0, SNIFF_BYTES);
  let high = 0, paired = 0, esc = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x1b && b[i + 1] === 0x24) esc = true;
    if (c < 0x80) continue;
    high++;
    if ((i > 0 && b[i - 1] >= 0x80) || (i + 1 < b.length && b[i + 1] >= 0x80)) paired++;
  }
  if (high === 0) return esc ? "iso-2022-jp" : "us-ascii";
  try {
    // A cut multi-byte character at the 16 KB edge must not spoil valid UTF-8.
    utf8.decode(b.length < bytes.length ? b.subarray(0, lastLead(b)) : b);
    return "utf-8";
  } catch {
    // not UTF-8
  }
  if (paired < high * 0.6) return "windows-1252";
  let best = "windows-1252", bestShare = 0;
  for (const [label, frequent, least, d] of FREQUENT) {
    if (!d) continue;
    let text: string;
    try {
      text = d.decode(b.subarray(0, lastLead(b)));
    } catch {
      continue;
    }
    let hits = 0, others = 0;
    for (const ch of text) {
      if (frequent.has(ch)) hits++;
      if (ch.charCodeAt(0) >= 0x80) others++;
    }
    const share = hits / Math.max(1, others);
    if (others >= LEAST_CHARS && share >= least && share > bestShare) {
      [best, bestShare] = [label, share];
    }
  }
  return best;
}

/** The length of `b` without a trailing run of 8-bit bytes that may be a cut character. */
function lastLead(b: Uint8Array): number {
  let n = b.length;
  for (let k = 0; k < 4 && n > 0 && b[n - 1] >= 0x80; k++) n--;
  return n;
}

/** The charset an HTML text names in a `<meta>` (also quoted-printable leftovers "3D"). */
export function metaCharset(html: Uint8Array): string | undefined {
  const head = new TextDecoder("latin1").decode(html.subarray(0, 4096));
  const m = /<meta[^>]{0,200}?charset\s*=\s*(?:3d)?["']?([a-z0-9_.:-]{2,40})/i.exec(head);
  return m && !charsetUnsaid(m[1]) ? m[1] : undefined;
}

/**
 * Text of a part whose charset may be unsaid: the declared one when it says something, else
 * `inherited` (the enclosing multipart's charset parameter), the HTML meta charset, or a
 * sniffed one. Returns the text and the charset used.
 */
export function decodeText(
  body: Uint8Array,
  declared: string | undefined,
  inherited: string | undefined,
  html: boolean,
): { text: string; charset: string } {
  let charset = declared;
  if (charsetUnsaid(charset) && hasHigh(body)) {
    const guess = (!charsetUnsaid(inherited) ? inherited : undefined) ??
      (html ? metaCharset(body) : undefined) ?? sniffCharset(body);
    // windows-1252 is what mime/ reads unsaid 8-bit text as anyway: the label stays.
    if (guess !== "windows-1252") charset = guess;
  }
  charset ??= "us-ascii";
  return { text: decodeCharset(body, charset), charset };
}

function hasHigh(b: Uint8Array): boolean {
  const n = Math.min(b.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) if (b[i] >= 0x80) return true;
  return false;
}

/**
 * A header value read as windows-1252 (mime/text.ts's fallback for 8-bit header bytes that
 * are not UTF-8) decoded again in `charset`: a raw GB2312 or Shift_JIS Subject.
 */
export function redecodeHeader(raw: Uint8Array, charset: string): string | null {
  if (
    !hasHigh(raw) || charsetUnsaid(charset) || /^(utf-?8|windows-1252|iso-8859-1)$/i.test(charset)
  ) {
    return null;
  }
  try {
    utf8.decode(raw);
    return null; // valid UTF-8 was read as such already
  } catch {
    return decodeCharset(raw, charset);
  }
}
