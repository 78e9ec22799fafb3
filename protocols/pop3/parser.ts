/**
 * POP3 command line parser (RFC 1939 §3, RFC 2449 §3). Pure: no I/O.
 *
 * A command is a case-insensitive keyword, then arguments separated by spaces. We are
 * lenient about repeated and trailing spaces (some clients send them), strict about
 * encoding: the line must be valid UTF-8 without control characters.
 *
 * @module
 */
import { syntaxError } from "./errors.ts";

/** One parsed command line. */
export interface Pop3Command {
  /** Upper-cased keyword. */
  verb: string;
  /** Space-separated arguments (empty strings removed). */
  args: string[];
  /**
   * Everything after the keyword and one space, unchanged: RFC 1939 §7 lets a server treat
   * spaces inside the PASS argument as part of the password.
   */
  rest: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Longest command line we accept (RFC 2449 §4 says 255 octets; we allow more). */
export const MAX_COMMAND_LINE = 1024;

/** Parses one line (without its CRLF); throws a bad-command Pop3Error when malformed. */
export function parseCommand(line: Uint8Array): Pop3Command {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    throw syntaxError("Invalid UTF-8 in command");
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) throw syntaxError("Control characters in command");
  const sp = text.indexOf(" ");
  const keyword = sp < 0 ? text : text.slice(0, sp);
  const rest = sp < 0 ? "" : text.slice(sp + 1);
  // RFC 1939 §3: keywords are three or four characters; RFC 2449 §3 allows longer ones.
  if (!/^[A-Za-z][A-Za-z0-9-]{0,15}$/.test(keyword)) {
    throw syntaxError(keyword === "" ? "Empty command" : "Malformed command");
  }
  return {
    verb: keyword.toUpperCase(),
    args: rest.split(" ").filter((a) => a !== ""),
    rest,
  };
}

/**
 * A message-number argument (RFC 1939 §3: decimal, 1-based). Range is checked by the
 * maildrop; this only rejects what is not a number at all.
 */
export function parseMessageNumber(arg: string | undefined): number {
  if (arg === undefined || !/^[0-9]{1,9}$/.test(arg)) {
    throw syntaxError("Invalid message number");
  }
  return Number(arg);
}

/** A non-negative line count (TOP, RFC 1939 §7). */
export function parseLineCount(arg: string | undefined): number {
  if (arg === undefined || !/^[0-9]{1,9}$/.test(arg)) throw syntaxError("Invalid line count");
  return Number(arg);
}
