/**
 * Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3) for IMAP4rev1 clients, UTF-8
 * for clients that enabled IMAP4rev2 (RFC 9051 §5.1); "/" is the hierarchy delimiter; INBOX
 * is case-insensitive (RFC 9051 §5.1); LIST wildcards `*` and `%` (RFC 9051 §6.3.9).
 *
 * Names are stored as UTF-8 with INBOX spelled in upper case. Nothing here does I/O.
 *
 * @module
 */
import { no } from "./errors.ts";
import { Code } from "./codes.ts";

/** The hierarchy delimiter. */
export const DELIMITER = "/";

/** Longest name accepted, in UTF-8 octets. */
export const MAX_NAME_OCTETS = 255;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/** Encodes a UTF-8 name as modified UTF-7 (RFC 3501 §5.1.3). */
export function encodeMutf7(name: string): string {
  let out = "";
  let pending: number[] = []; // UTF-16 code units awaiting base64
  const flush = () => {
    if (pending.length === 0) return;
    const bytes: number[] = [];
    for (const u of pending) bytes.push(u >> 8, u & 0xff);
    let bits = 0;
    let acc = 0;
    out += "&";
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += B64[(acc >> bits) & 0x3f];
      }
    }
    if (bits > 0) out += B64[(acc << (6 - bits)) & 0x3f];
    out += "-";
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0x20 && u <= 0x7e) {
      flush();
      out += u === 0x26 ? "&-" : name[i];
    } else {
      pending.push(u);
    }
  }
  flush();
  return out;
}

/** Decodes modified UTF-7; returns null when the encoding is invalid. */
export function decodeMutf7(text: string): string | null {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return null;
    if (c !== 0x26) {
      out += text[i++];
      continue;
    }
    const end = text.indexOf("-", i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += "&";
      i = end + 1;
      continue;
    }
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    let byteBuf: number[] = [];
    for (let j = i + 1; j < end; j++) {
      const v = B64.indexOf(text[j]);
      if (v < 0) return null;
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        byteBuf.push((acc >> bits) & 0xff);
        if (byteBuf.length === 2) {
          units.push((byteBuf[0] << 8) | byteBuf[1]);
          byteBuf = [];
        }
      }
    }
    // Leftover bits must be zero padding, and no half code unit may remain.
    if (byteBuf.length !== 0 || bits >= 6 || (acc & ((1 << bits) - 1)) !== 0) return null;
    const decoded = String.fromCharCode(...units);
    // RFC 3501 §5.1.3: printable ASCII must not be base64-encoded.
    if (/[\x20-\x7e]/.test(decoded)) return null;
    if (!decoded.isWellFormed()) return null;
    out += decoded;
    i = end + 1;
  }
  return out;
}

/** Spells INBOX (and the INBOX/ prefix) in upper case, whatever the client wrote. */
export function normalizeInbox(name: string): string {
  if (name.length === 5 && name.toUpperCase() === "INBOX") return "INBOX";
  if (name.length > 5 && name.slice(0, 6).toUpperCase() === "INBOX/") {
    return "INBOX" + name.slice(5);
  }
  return name;
}

/**
 * Turns a mailbox argument from the wire into a stored name: decodes modified UTF-7 for
 * IMAP4rev1 clients (a name that already holds non-ASCII characters is taken as UTF-8),
 * normalizes INBOX. Throws NO for an undecodable name.
 */
export function fromWire(raw: string, utf8Mode: boolean): string {
  let name = raw;
  if (!utf8Mode && /^[\x20-\x7e]*$/.test(raw)) {
    const d = decodeMutf7(raw);
    if (d === null) throw no("Mailbox name is not valid modified UTF-7", Code.CANNOT);
    name = d;
  }
  return normalizeInbox(name);
}

/** A stored name as the client sees it. */
export function toWire(name: string, utf8Mode: boolean): string {
  return utf8Mode ? name : encodeMutf7(name);
}

/**
 * Checks a name a client wants to create or rename to (RFC 9051 §6.3.4): refused with NO are
 * empty names, "..", wildcards, NUL and control characters, a leading or trailing "/", empty
 * levels ("a//b") and names longer than 255 octets.
 */
export function validateNewName(name: string): void {
  const reason = invalidNameReason(name);
  if (reason) throw no(`Invalid mailbox name: ${reason}`, Code.CANNOT);
}

/** Why a name is invalid, or null when it is fine. */
export function invalidNameReason(name: string): string | null {
  if (name === "") return "empty";
  if (new TextEncoder().encode(name).length > MAX_NAME_OCTETS) {
    return `longer than ${MAX_NAME_OCTETS} octets`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) return "control characters";
  if (/[%*]/.test(name)) return "wildcard characters";
  if (name.includes("..")) return '".." is not allowed';
  if (name.startsWith(DELIMITER) || name.endsWith(DELIMITER)) {
    return 'leading or trailing "/"';
  }
  if (name.includes(DELIMITER + DELIMITER)) return "empty hierarchy level";
  if (!name.isWellFormed()) return "invalid Unicode";
  return null;
}

/** The names of every level above `name` ("a/b/c" -> ["a", "a/b"]). */
export function parentNames(name: string): string[] {
  const parts = name.split(DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(DELIMITER));
  return out;
}

/** A token of a compiled LIST pattern: a code point, or a wildcard (STAR `*`, PERCENT `%`). */
const STAR = -1;
const PERCENT = -2;
const SLASH = 0x2f;

/**
 * A LIST pattern (RFC 9051 §6.3.9): reference and mailbox pattern joined, `*` matching
 * anything and `%` anything but the delimiter. INBOX matches case-insensitively.
 *
 * Matching simulates the pattern as an automaton over one set of live positions: time
 * O(name × pattern) whatever the client wrote, never a backtracking RegExp built from
 * client input (issue 13: `*%*%…x` froze the server for minutes).
 */
export class MailboxPattern {
  /** Code points and wildcards; a run of wildcards is one token (`*` if it holds one). */
  readonly #tokens: number[];
  /** How many tokens are literal code points: a name shorter than that cannot match. */
  readonly #literals: number;
  /** True when the pattern ends in `%`: implied parent levels are listed too. */
  readonly endsWithPercent: boolean;

  constructor(reference: string, pattern: string) {
    const full = normalizeInboxPattern(reference + pattern);
    this.#tokens = compilePattern(full);
    this.#literals = this.#tokens.filter((t) => t >= 0).length;
    this.endsWithPercent = full.endsWith("%");
  }

  /** Whether a stored name matches. */
  matches(name: string): boolean {
    const tokens = this.#tokens;
    const m = tokens.length;
    if (name.length < this.#literals) return false; // a code point is at least one unit
    // live[j]: the first j tokens can match what has been read of the name so far.
    let live = new Uint8Array(m + 1);
    let next = new Uint8Array(m + 1);
    live[0] = 1;
    closeOverWildcards(tokens, live);
    for (const ch of name) {
      const c = ch.codePointAt(0)!;
      next.fill(0);
      let any = false;
      for (let j = 0; j < m; j++) {
        if (!live[j]) continue;
        const t = tokens[j];
        if (t === STAR || (t === PERCENT && c !== SLASH)) next[j] = 1;
        else if (t === c) next[j + 1] = 1;
        else continue;
        any = true;
      }
      if (!any) return false;
      closeOverWildcards(tokens, next);
      [live, next] = [next, live];
    }
    return live[m] === 1;
  }
}

/** A wildcard may match nothing: a live position before one makes the next live too. */
function closeOverWildcards(tokens: number[], live: Uint8Array): void {
  for (let j = 0; j < tokens.length; j++) {
    if (live[j] && tokens[j] < 0) live[j + 1] = 1;
  }
}

/** The pattern as tokens, each run of wildcards folded into one (`*%*%` is `*`). */
function compilePattern(pattern: string): number[] {
  const out: number[] = [];
  for (const ch of pattern) {
    const c = ch === "*" ? STAR : ch === "%" ? PERCENT : ch.codePointAt(0)!;
    const last = out.length - 1;
    if (c < 0 && last >= 0 && out[last] < 0) {
      if (c === STAR) out[last] = STAR;
      continue;
    }
    out.push(c);
  }
  return out;
}

function normalizeInboxPattern(p: string): string {
  if (
    p.length >= 5 && p.slice(0, 5).toUpperCase() === "INBOX" && (p.length === 5 || p[5] === "/")
  ) {
    return "INBOX" + p.slice(5);
  }
  return p;
}
