/**
 * IMAP command tokenizer (RFC 9051 §9 formal syntax), fed with what the session has read:
 * the command's lines and the literals between them. It does no I/O.
 *
 * A command arrives as `line0 {n}` CRLF `<n octets>` `line1 {m+}` CRLF `<m octets>` `line2`.
 * The session reads each line, asks `literalAnnouncement()` whether it ends in a literal,
 * reads the literal (after `+ Ready` for a synchronizing one) and hands the whole lot to an
 * `ArgReader` as `{ lines: [line0, line1, line2], literals: [lit0, lit1] }`. The reader treats
 * a `{n}` at the very end of line i as "the string is literals[i]; continue with line i+1".
 *
 * Invariants: `lines.length === literals.length + 1`; nothing here allocates more than the
 * input it was given; every malformed input ends in a ParseError (-> tagged BAD).
 *
 * @module
 */
import { ParseError } from "./errors.ts";

/** One complete command as read from the wire. */
export interface CommandInput {
  /** The command's lines, without CRLF. */
  lines: Uint8Array[];
  /** literals[i] follows lines[i]. */
  literals: Uint8Array[];
}

/** A literal announced at the end of a line: `{n}`, `{n+}` (RFC 7888) or `~{n}` (RFC 3516). */
export interface LiteralAnnouncement {
  /** Octets announced; Infinity when the number does not fit (always too big). */
  size: number;
  /** True for `{n}`: the client waits for a `+` continuation before sending the octets. */
  sync: boolean;
  /** `~{n}`: a literal8 (binary) literal. */
  binary: boolean;
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const PLUS = 0x2b;
const TILDE = 0x7e;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Returns the literal announced at the end of `line`, or null (RFC 9051 §4.3, RFC 7888). */
export function literalAnnouncement(line: Uint8Array): LiteralAnnouncement | null {
  const n = line.length;
  if (n < 3 || line[n - 1] !== RBRACE) return null;
  let i = n - 2;
  const sync = line[i] !== PLUS;
  if (!sync) i--;
  const end = i + 1;
  while (i >= 0 && isDigit(line[i])) i--;
  if (i < 0 || line[i] !== LBRACE || i + 1 === end) return null;
  const digits = latin1.decode(line.subarray(i + 1, end));
  const size = digits.length > 15 ? Infinity : Number(digits);
  const binary = i > 0 && line[i - 1] === TILDE;
  return { size, sync, binary };
}

/** The tag of a command line, for error replies to lines that fail before parsing. */
export function peekTag(line: Uint8Array): string | null {
  let i = 0;
  while (i < line.length && isTagChar(line[i])) i++;
  if (i === 0 || i > 64) return null;
  return latin1.decode(line.subarray(0, i));
}

/** The verb of a command line (upper case), or "" — used to size literal limits early. */
export function peekVerb(line: Uint8Array): string {
  const text = latin1.decode(line.subarray(0, Math.min(line.length, 200)));
  const m = /^\S+ ((?:UID )?[A-Za-z]+)/i.exec(text);
  return m ? m[1].toUpperCase() : "";
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** RFC 9051 §9 ATOM-CHAR: any CHAR except atom-specials. */
export function isAtomChar(c: number): boolean {
  if (c <= 0x1f || c >= 0x7f) return false;
  switch (c) {
    case 0x28: // (
    case 0x29: // )
    case LBRACE:
    case SP:
    case 0x25: // %
    case 0x2a: // *
    case DQUOTE:
    case BACKSLASH:
    case 0x5d: // ]
      return false;
  }
  return true;
}

/** ASTRING-CHAR = ATOM-CHAR / resp-specials. */
export function isAstringChar(c: number): boolean {
  return isAtomChar(c) || c === 0x5d;
}

/** list-char = ATOM-CHAR / list-wildcards / resp-specials. */
function isListChar(c: number): boolean {
  return isAstringChar(c) || c === 0x25 || c === 0x2a;
}

/** tag = 1*<any ASTRING-CHAR except "+">. */
function isTagChar(c: number): boolean {
  return isAstringChar(c) && c !== PLUS;
}

/** A sequence number or `*` (the largest number in use). */
export type SeqNumber = number | "*";

/**
 * A parsed sequence set (RFC 9051 §9 sequence-set). `saved` is `$`, the result of the last
 * SEARCH ... RETURN (SAVE) (RFC 5182, part of IMAP4rev2).
 */
export type SequenceSet =
  | { saved: false; ranges: Array<[SeqNumber, SeqNumber]> }
  | { saved: true };

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** A cursor over one command's lines and literals. */
export class ArgReader {
  #lines: Uint8Array[];
  #literals: Uint8Array[];
  #seg = 0;
  #pos = 0;

  constructor(input: CommandInput) {
    if (input.lines.length !== input.literals.length + 1) {
      throw new Error("ArgReader: lines.length must be literals.length + 1");
    }
    this.#lines = input.lines;
    this.#literals = input.literals;
  }

  get #line(): Uint8Array {
    return this.#lines[this.#seg];
  }

  /** The current byte, or -1 at the end of the current line. */
  #cur(): number {
    return this.#pos < this.#line.length ? this.#line[this.#pos] : -1;
  }

  /** True when everything has been consumed. */
  atEnd(): boolean {
    return this.#seg === this.#lines.length - 1 && this.#pos >= this.#line.length;
  }

  /** The next character (as a string), "" at the end of a line. */
  peek(): string {
    const c = this.#cur();
    return c < 0 ? "" : String.fromCharCode(c);
  }

  /** Up to `n` characters ahead on the current line, without consuming them. */
  peekText(n: number): string {
    return latin1.decode(this.#line.subarray(this.#pos, this.#pos + n));
  }

  /** Consumes `ch` when it is next; returns whether it did. */
  tryChar(ch: string): boolean {
    if (this.#cur() === ch.charCodeAt(0)) {
      this.#pos++;
      return true;
    }
    return false;
  }

  /** Consumes `ch` or fails. */
  expectChar(ch: string, what?: string): void {
    if (!this.tryChar(ch)) {
      throw new ParseError(`Expected ${what ?? `"${ch}"`} at column ${this.#pos + 1}`);
    }
  }

  /** Consumes exactly one SP. */
  space(): void {
    this.expectChar(" ", "a space");
  }

  /** Fails unless all input has been consumed. */
  end(): void {
    if (!this.atEnd()) throw new ParseError(`Unexpected text at column ${this.#pos + 1}`);
  }

  /** Consumes the longest run of bytes satisfying `pred` (within the current line). */
  takeWhile(pred: (c: number) => boolean): string {
    const start = this.#pos;
    const line = this.#line;
    while (this.#pos < line.length && pred(line[this.#pos])) this.#pos++;
    return latin1.decode(line.subarray(start, this.#pos));
  }

  /** tag (RFC 9051 §9). */
  tag(): string {
    const t = this.takeWhile(isTagChar);
    if (t === "") throw new ParseError("Missing or invalid tag");
    return t;
  }

  /** atom: 1*ATOM-CHAR. */
  atom(what = "an atom"): string {
    const a = this.takeWhile(isAtomChar);
    if (a === "") throw new ParseError(`Expected ${what} at column ${this.#pos + 1}`);
    return a;
  }

  /** True (and consumed) when the next token is the atom NIL. */
  tryNil(): boolean {
    const line = this.#line;
    const p = this.#pos;
    if (
      p + 3 <= line.length && (line[p] | 0x20) === 0x6e && (line[p + 1] | 0x20) === 0x69 &&
      (line[p + 2] | 0x20) === 0x6c && (p + 3 === line.length || !isAtomChar(line[p + 3]))
    ) {
      this.#pos += 3;
      return true;
    }
    return false;
  }

  /** True when a quoted string or a literal starts here. */
  #atString(): boolean {
    const c = this.#cur();
    return c === DQUOTE || c === LBRACE || (c === TILDE && this.#line[this.#pos + 1] === LBRACE);
  }

  /** string = quoted / literal, as raw bytes. */
  stringBytes(): Uint8Array {
    const c = this.#cur();
    if (c === DQUOTE) return this.#quoted();
    if (c === LBRACE || c === TILDE) return this.literal();
    throw new ParseError(`Expected a string at column ${this.#pos + 1}`);
  }

  /** string, decoded as UTF-8 (invalid UTF-8 is a BAD). */
  string(): string {
    return decodeUtf8(this.stringBytes());
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astring(what = "a string"): string {
    if (this.#atString()) return this.string();
    const a = this.takeWhile(isAstringChar);
    if (a === "") throw new ParseError(`Expected ${what} at column ${this.#pos + 1}`);
    return a;
  }

  /** nstring = string / NIL. */
  nstring(): string | null {
    if (this.tryNil()) return null;
    return this.string();
  }

  /** list-mailbox = 1*list-char / string (LIST/LSUB patterns may hold % and *). */
  listMailbox(): string {
    if (this.#atString()) return this.string();
    const a = this.takeWhile(isListChar);
    if (a === "") throw new ParseError(`Expected a mailbox pattern at column ${this.#pos + 1}`);
    return a;
  }

  #quoted(): Uint8Array {
    const line = this.#line;
    let i = this.#pos + 1;
    const out: number[] = [];
    for (;;) {
      if (i >= line.length) throw new ParseError("Unterminated quoted string");
      const c = line[i];
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        const n = line[i + 1];
        // RFC 9051 §4.3: only "\\" and "\"" are quoted-specials escapes.
        if (n !== DQUOTE && n !== BACKSLASH) {
          throw new ParseError("Invalid escape in quoted string");
        }
        out.push(n);
        i += 2;
        continue;
      }
      if (c === 0) throw new ParseError("NUL in quoted string");
      out.push(c);
      i++;
    }
    this.#pos = i + 1;
    return Uint8Array.from(out);
  }

  /** A literal `{n}` / `{n+}` / `~{n}` that ends the current line: returns its octets. */
  literal(): Uint8Array {
    const line = this.#line;
    let p = this.#pos;
    if (line[p] === TILDE) p++;
    if (line[p] !== LBRACE) throw new ParseError(`Expected a literal at column ${p + 1}`);
    const ann = literalAnnouncement(line.subarray(this.#pos));
    const rest = line.length - this.#pos;
    if (!ann || this.#seg >= this.#literals.length) {
      throw new ParseError(`Invalid literal at column ${p + 1}`);
    }
    // The announcement must be the whole rest of the line (literalAnnouncement checks the
    // end; make sure it also starts here).
    const text = latin1.decode(line.subarray(this.#pos));
    if (!/^~?\{\d+\+?\}$/.test(text) || text.length !== rest) {
      throw new ParseError(`Invalid literal at column ${p + 1}`);
    }
    const data = this.#literals[this.#seg];
    if (data.length !== ann.size) throw new ParseError("Literal size mismatch");
    this.#seg++;
    this.#pos = 0;
    return data;
  }

  /** number (RFC 9051 §9): 0 .. 4294967295. */
  number(what = "a number"): number {
    const d = this.takeWhile(isDigit);
    if (d === "" || d.length > 10) throw new ParseError(`Expected ${what}`);
    const n = Number(d);
    if (n > 0xffffffff) throw new ParseError(`${what} out of range`);
    return n;
  }

  /** number64 (RFC 9051 §9): 0 .. 2^63-1, clipped to what JavaScript holds exactly. */
  number64(what = "a number"): number {
    const d = this.takeWhile(isDigit);
    if (d === "" || d.length > 19) throw new ParseError(`Expected ${what}`);
    const n = Number(d);
    if (!Number.isSafeInteger(n)) throw new ParseError(`${what} out of range`);
    return n;
  }

  /** nz-number. */
  nzNumber(what = "a non-zero number"): number {
    const n = this.number(what);
    if (n === 0) throw new ParseError(`${what} must not be 0`);
    return n;
  }

  /** sequence-set, including `*` and `$` (RFC 9051 §9, RFC 5182). */
  sequenceSet(): SequenceSet {
    if (this.tryChar("$")) return { saved: true };
    const ranges: Array<[SeqNumber, SeqNumber]> = [];
    do {
      const a = this.#seqNumber();
      const b = this.tryChar(":") ? this.#seqNumber() : a;
      ranges.push([a, b]);
    } while (this.tryChar(","));
    return { saved: false, ranges };
  }

  #seqNumber(): SeqNumber {
    if (this.tryChar("*")) return "*";
    return this.nzNumber("a sequence number");
  }

  /**
   * "(" item *(SP item) ")" — `allowEmpty` for lists that may be "()".
   * `item` is called with the reader positioned at the item.
   */
  list<T>(item: () => T, allowEmpty = true): T[] {
    this.expectChar("(");
    const out: T[] = [];
    if (this.tryChar(")")) {
      if (!allowEmpty) throw new ParseError("Empty list");
      return out;
    }
    for (;;) {
      out.push(item());
      if (this.tryChar(")")) return out;
      this.space();
    }
  }

  /** flag: "\" atom (system flag or extension) or a keyword atom. */
  flag(): string {
    if (this.tryChar("\\")) return "\\" + this.atom("a flag name");
    return this.atom("a flag");
  }

  /** flag-list = "(" [flag *(SP flag)] ")". */
  flagList(): string[] {
    return this.list(() => this.flag());
  }

  /** date = date-text / DQUOTE date-text DQUOTE -> UTC midnight in ms (RFC 9051 §9). */
  date(): number {
    const quoted = this.tryChar('"');
    const text = this.takeWhile((c) => c !== DQUOTE && c !== SP && c !== 0x29);
    if (quoted) this.expectChar('"');
    const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
    const month = m ? MONTHS.indexOf(m[2].toLowerCase()) : -1;
    if (!m || month < 0) throw new ParseError(`Invalid date "${text}"`);
    const day = Number(m[1]);
    const ms = Date.UTC(Number(m[3]), month, day);
    if (day < 1 || new Date(ms).getUTCDate() !== day) {
      throw new ParseError(`Invalid date "${text}"`);
    }
    return ms;
  }

  /** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE. */
  dateTime(): number {
    const bytes = this.stringBytes();
    const text = latin1.decode(bytes);
    const ms = parseDateTime(text);
    if (ms === null) throw new ParseError(`Invalid date-time "${text}"`);
    return ms;
  }
}

/** Parses an IMAP date-time ("17-Jul-1996 02:44:25 -0700") to epoch ms, or null. */
export function parseDateTime(text: string): number | null {
  const m = /^([ \d]?\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(
    text,
  );
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  if (month < 0) return null;
  const day = Number(m[1].trim());
  const [h, mi, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || s > 60 || day < 1) return null;
  const utc = Date.UTC(Number(m[3]), month, day, h, mi, s);
  if (new Date(Date.UTC(Number(m[3]), month, day)).getUTCDate() !== day) return null;
  const zone = (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  return m[7] === "+" ? utc - zone : utc + zone;
}

/** UTF-8 decode or BAD (RFC 9051 §4.3: strings are UTF-8 in IMAP4rev2). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ParseError("Invalid UTF-8 in string");
  }
}
