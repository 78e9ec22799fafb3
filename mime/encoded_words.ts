/**
 * RFC 2047 encoded-word decoding (`=?charset?B|Q?text?=`) for header text.
 *
 * @module
 */
import { decodeBase64 } from "./decode.ts";
import { decodeCharset, decodeUnknown, textToBytes } from "./text.ts";
import { concatBytes } from "../lib/bytes.ts";

// RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
// (RFC 2231 §5 allows charset*language). Linear: no nested quantifiers.
const WORD = /=\?([^?\s]{1,75})\?([BbQq])\?([^?\s]*)\?=/g;
/**
 * Distinct charsets looked up per decoded value; later ones decode as unknown. A label the
 * runtime does not know costs a TextDecoder constructor that throws (~10 µs, and only 256
 * labels are cached): 20,000 made-up labels in one Subject (msgfuzz) took 0.2 s per decode,
 * and a JMAP Email/get or IMAP SEARCH decodes it several times. A real field names one or two.
 */
const MAX_CHARSETS = 16;

/** Decodes Q-encoded text (RFC 2047 §4.2): `_` is space, `=XX` a byte. */
function decodeQ(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 95) {
      out.push(32);
    } else if (c === 61 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      for (const b of textToBytes(text[i])) out.push(b);
    }
  }
  return new Uint8Array(out);
}

/**
 * Decodes every encoded word in `s`. White space between two adjacent encoded words is
 * dropped (RFC 2047 §6.2); adjacent words in the same charset are joined before decoding,
 * so a multi-byte character split across words survives — except in the stateful
 * ISO-2022 charsets, where each word ends back in ASCII (RFC 1468) and joined words would
 * put two escapes in a row, which a decoder reports as an error (WHATWG Encoding
 * §12.2.1). Unknown charsets fall back to UTF-8 (when valid) or windows-1252. Never throws.
 */
export function decodeEncodedWords(s: string): string {
  if (s.indexOf("=?") < 0) return s;
  let out = "";
  let last = 0;
  let pendingCharset = "";
  let pending: Uint8Array[] = [];
  const charsets = new Set<string>();
  const flush = () => {
    if (pending.length > 0) {
      const bytes = concatBytes(pending);
      if (charsets.size < MAX_CHARSETS) charsets.add(pendingCharset);
      out += charsets.has(pendingCharset)
        ? decodeCharset(bytes, pendingCharset)
        : decodeUnknown(bytes);
    }
    pending = [];
  };
  for (const m of s.matchAll(WORD)) {
    const gap = s.slice(last, m.index);
    const adjacent = pending.length > 0 && /^[ \t\r\n]*$/.test(gap);
    const charset = m[1].split("*")[0].toLowerCase();
    if (!adjacent || charset !== pendingCharset || charset.startsWith("iso-2022")) {
      flush();
      if (!adjacent) out += gap;
    }
    pendingCharset = charset;
    const text = m[3];
    pending.push(m[2] === "B" || m[2] === "b" ? decodeBase64(textToBytes(text)) : decodeQ(text));
    last = m.index + m[0].length;
  }
  flush();
  return out + s.slice(last);
}
