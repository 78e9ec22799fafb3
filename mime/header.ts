/**
 * Header fields (RFC 5322 §2.2): one object per field, pointing into the message bytes.
 *
 * @module
 */
import { bytesToText } from "./text.ts";

const CR = 13, LF = 10, SP = 32, HT = 9, COLON = 58;

/** One header field. Offsets index the original message bytes. */
export class HeaderField {
  /** Field name as written in the message. */
  readonly name: string;
  /** Field name, lower-cased. */
  readonly lname: string;
  /** Offset of the first byte of the field (its name). */
  readonly start: number;
  /** Offset just after the colon. */
  readonly valueStart: number;
  /** Offset just after the field's last line ending (folded lines included). */
  end: number;
  readonly #bytes: Uint8Array;
  #value: string | undefined;

  /** Creates a field over `bytes[start, end)` whose name ends at `nameEnd`. */
  constructor(bytes: Uint8Array, start: number, nameEnd: number, valueStart: number, end: number) {
    this.#bytes = bytes;
    this.start = start;
    this.valueStart = valueStart;
    this.end = end;
    this.name = bytesToText(bytes, start, nameEnd);
    this.lname = this.name.toLowerCase();
  }

  /** Offset just after the last value byte (before the final CRLF / LF). */
  get valueEnd(): number {
    let e = this.end;
    if (e > this.valueStart && this.#bytes[e - 1] === LF) {
      e--;
      if (e > this.valueStart && this.#bytes[e - 1] === CR) e--;
    }
    return e;
  }

  /** The raw value bytes (folding kept, final line ending excluded); a view, not a copy. */
  get raw(): Uint8Array {
    return this.#bytes.subarray(this.valueStart, this.valueEnd);
  }

  /** The whole field as in the message, final line ending included; a view. */
  get line(): Uint8Array {
    return this.#bytes.subarray(this.start, this.end);
  }

  /**
   * The value unfolded (RFC 5322 §2.2.3: CRLF before WSP removed), leading and trailing
   * white space trimmed, decoded as UTF-8 (windows-1252 when not valid UTF-8).
   * Encoded words (RFC 2047) are left as they are: see `decodeEncodedWords`.
   */
  get value(): string {
    if (this.#value === undefined) {
      this.#value = unfold(bytesToText(this.#bytes, this.valueStart, this.valueEnd));
    }
    return this.#value;
  }
}

/** Removes line breaks of folded header text and trims white space at both ends. */
export function unfold(s: string): string {
  if (s.indexOf("\n") >= 0 || s.indexOf("\r") >= 0) s = s.replace(/\r?\n|\r/g, "");
  let a = 0, b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * If `bytes[pos, lineEnd)` starts a header field (`name` of printable ASCII other than
 * `:`, optional obsolete white space, then `:`), returns the offset of the colon; else -1.
 */
export function fieldColon(bytes: Uint8Array, pos: number, lineEnd: number): number {
  let i = pos;
  while (i < lineEnd) {
    const c = bytes[i];
    if (c === COLON) return i > pos ? i : -1;
    if (c <= SP || c >= 127) break;
    i++;
  }
  if (i === pos) return -1;
  // RFC 5322 §4.5 obs-optional: WSP between the field name and the colon.
  while (i < lineEnd && (bytes[i] === SP || bytes[i] === HT)) i++;
  return i < lineEnd && bytes[i] === COLON ? i : -1;
}

/** The first field named `name` (any case), or undefined. */
export function findField(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const l = name.toLowerCase();
  for (const f of fields) if (f.lname === l) return f;
  return undefined;
}
