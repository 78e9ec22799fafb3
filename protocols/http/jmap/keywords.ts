/**
 * Keywords are the IMAP flags (RFC 8621 §4.1.1): `\Seen` is `$seen`, `\Flagged` `$flagged`,
 * `\Answered` `$answered`, `\Draft` `$draft`; other keywords lower-cased (JMAP keywords are
 * case-insensitive); `\Deleted` and `\Recent` have no keyword.
 *
 * @module
 */
import type { JsonObject } from "./json.ts";

const SYSTEM_KEYWORDS: Record<string, string> = {
  "\\seen": "$seen",
  "\\flagged": "$flagged",
  "\\answered": "$answered",
  "\\draft": "$draft",
};

/** RFC 8621 §4.1.1 keywords of a set of IMAP flags (a prototype-less object). */
export function keywordsOf(flags: Iterable<string>): JsonObject {
  const out: JsonObject = Object.create(null);
  for (const f of flags) {
    const l = f.toLowerCase();
    if (SYSTEM_KEYWORDS[l]) out[SYSTEM_KEYWORDS[l]] = true;
    else if (!l.startsWith("\\")) out[l] = true;
  }
  return out;
}

const FLAG_OF: Record<string, string> = Object.fromEntries(
  Object.entries(SYSTEM_KEYWORDS).map((
    [flag, kw],
  ) => [kw, `\\${flag[1].toUpperCase()}${flag.slice(2)}`]),
);

/**
 * RFC 8621 §4.1.1: a keyword is 1–255 characters of %x21–%x7E but ( ) { ] % * " \ — which
 * also makes it a valid IMAP flag atom.
 */
export function isKeyword(k: string): boolean {
  return k.length >= 1 && k.length <= 255 && /^[\x21-\x7e]+$/.test(k) && !/[(){\]%*"\\]/.test(k);
}

/** The IMAP flags of JMAP keywords (already validated, any case). */
export function flagsOf(keywords: Iterable<string>): string[] {
  return [...new Set([...keywords].map((k) => k.toLowerCase()))].map((k) => FLAG_OF[k] ?? k);
}
