/**
 * Typed IMAP protocol errors. Handlers and parsers throw these; the session loop is the one
 * place that turns them into wire replies (`tag NO [CODE] text`, `tag BAD text`, `* BYE`).
 *
 * @module
 */

/** Status of a failed command (RFC 9051 §7.1.2 NO, §7.1.3 BAD). */
export type FailStatus = "NO" | "BAD";

/** A command failed: the session answers `tag <status> [<code>] <text>`. */
export class ImapError extends Error {
  constructor(
    readonly status: FailStatus,
    message: string,
    /** Response code without brackets, e.g. "TRYCREATE" or "BADCHARSET (UTF-8)". */
    readonly code?: string,
  ) {
    super(message);
    this.name = "ImapError";
  }
}

/** Malformed command syntax: always BAD, counts towards the bad-command limit. */
export class ParseError extends ImapError {
  constructor(message: string) {
    super("BAD", message);
    this.name = "ParseError";
  }
}

/** The session must end: the loop sends `* BYE <text>` and closes. */
export class ByeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ByeError";
  }
}

/** `tag NO [code] text`. */
export function no(text: string, code?: string): ImapError {
  return new ImapError("NO", text, code);
}

/** `tag BAD [code] text`. */
export function bad(text: string, code?: string): ImapError {
  return new ImapError("BAD", text, code);
}
