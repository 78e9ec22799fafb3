/**
 * IMAP string composition (RFC 9051 §4.3): quoted strings, literals, NIL.
 *
 * @module
 */
import { textToBytes } from "./text.ts";

/** Options for composing IMAP strings. */
export interface QuoteOptions {
  /**
   * UTF8=ACCEPT is enabled (RFC 6855 §3): non-ASCII text may be sent in quoted strings.
   * Otherwise any non-ASCII text is sent as a literal.
   */
  utf8?: boolean;
}

/**
 * Returns `s` as an IMAP quoted string, or as a literal `{n}\r\n...` (n counted in UTF-8
 * bytes) when it contains CR, LF, or 8-bit text that may not be quoted. `"` and `\` are
 * backslash-escaped inside quoted strings (RFC 9051 §9 `quoted-specials`). NUL, never
 * valid in an IMAP string, is dropped.
 */
export function quoteImapString(s: string, opts: QuoteOptions = {}): string {
  if (s.indexOf("\0") >= 0) s = s.replaceAll("\0", "");
  let literal = false;
  let escape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || (c >= 0x80 && !opts.utf8)) {
      literal = true;
      break;
    }
    if (c === 34 || c === 92) escape = true;
  }
  if (literal) return `{${textToBytes(s).length}}\r\n${s}`;
  return escape ? `"${s.replace(/["\\]/g, "\\$&")}"` : `"${s}"`;
}

/** `NIL` for null, else {@link quoteImapString}. */
export function nstring(s: string | null | undefined, opts: QuoteOptions = {}): string {
  return s === null || s === undefined ? "NIL" : quoteImapString(s, opts);
}

/** Like {@link nstring}, with line breaks removed first (values that must stay on one line). */
export function nstringNoLf(s: string | null | undefined, opts: QuoteOptions = {}): string {
  if (s === null || s === undefined) return "NIL";
  return quoteImapString(s.replace(/\r?\n|\r/g, ""), opts);
}

/**
 * Text meant for people (subject, display names): runs of white space and line breaks
 * collapse to one space and the ends are trimmed, as Dovecot does, then quoted.
 */
export function humanString(s: string | null | undefined, opts: QuoteOptions = {}): string {
  if (s === null || s === undefined) return "NIL";
  return quoteImapString(s.replace(/[ \t\r\n]+/g, " ").trim(), opts);
}
