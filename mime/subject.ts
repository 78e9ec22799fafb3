/**
 * The base subject of a message (after RFC 5256 §2.1, simplified): reply and forward
 * prefixes ("Re:", "Fwd:", "AW:", "SV:", "Re[2]:"), list tags ("[list]") and a trailing
 * "(fwd)" removed, white space collapsed, case folded. Used to thread (storage) and to sort
 * by subject (JMAP). Bounded: at most 20 prefixes are removed.
 *
 * @module
 */
const PREFIX = /^\s*(?:(?:re|fwd?|aw|sv|antw)\s*(?:\[\d+\])?\s*:|\[[^\]]{0,100}\])\s*/i;

/** The base subject of `subject` (already decoded). */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s+/g, " ").trim();
  for (let i = 0; i < 20; i++) {
    const m = PREFIX.exec(s);
    if (!m || m[0].length === 0) break;
    s = s.slice(m[0].length);
  }
  s = s.replace(/\s*\((?:fwd)\)\s*$/i, "");
  return s.trim().toLowerCase();
}
