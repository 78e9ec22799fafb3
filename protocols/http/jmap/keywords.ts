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
