/**
 * The MIME parser: one forward pass over the message bytes builds the whole tree with
 * exact offsets (RFC 5322 §2.1, RFC 2045, RFC 2046 §5.1).
 *
 * Invariants: the scan position only moves forward, so work is linear in the message
 * size (times the boundary nesting depth, capped at {@link MAX_DEPTH}, for lines that
 * start with `--`). Never throws on any input; never recurses deeper than MAX_DEPTH.
 *
 * Leniency, following Dovecot's parser where the RFCs leave it open:
 * - a boundary line matches when it *starts* with `--boundary` (longest match among the
 *   open boundaries wins, innermost first), so trailing white space or junk is accepted;
 * - a missing close delimiter ends the part at the enclosing boundary or at the end;
 * - after a close delimiter that boundary is forgotten (duplicates in the epilogue are text);
 * - a header ends at the blank line, or at the first line that is neither a field nor a
 *   continuation (Python's email package does the same), or at a boundary line;
 * - Content-* fields are honoured without MIME-Version; the first of each kind wins.
 *
 * @module
 */
import { fieldColon, HeaderField } from "./header.ts";
import {
  paramValue,
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
} from "./params.ts";
import { textToBytes } from "./text.ts";
import { MAX_DEPTH, MAX_FIELDS, MAX_PARTS, type MimePart } from "./types.ts";

const CR = 13, LF = 10, SP = 32, HT = 9, DASH = 45;

/** A boundary delimiter line found by the scanner. */
interface Delimiter {
  /** Offset of the first `-`. */
  lineStart: number;
  /** Offset just after the line's LF (or the end of input). */
  lineEnd: number;
  /** Number of LF bytes before `lineStart`. */
  lf: number;
  /** Index of the matched boundary in the open-boundary stack. */
  level: number;
  /** Whether it is a close delimiter (`--boundary--`). */
  close: boolean;
}

/**
 * Parses a message into a MIME tree. Never throws; offsets index `bytes` exactly.
 *
 * @example
 * ```ts
 * const root = parseMime(new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n"));
 * // root.type === "text", root.bodyStart === 15, root.lines === 1
 * ```
 */
export function parseMime(bytes: Uint8Array, opts: ParseOptions = {}): MimePart {
  const scanner = new Scanner(bytes, opts.nonMimeFields ?? false);
  return scanner.parsePart(0, false, true).part;
}

/** Options of `parseMime`. */
export interface ParseOptions {
  /**
   * Apply the Content-* fields of a message that is not MIME (neither MIME-Version nor
   * Content-Type, RFC 2045 §4) anyway. Off by default: what IMAP clients see is 7bit text,
   * as Dovecot shows it. On for content analysis (spam rules, encryption detection), where
   * base64 in non-MIME mail must still be decoded rather than be a way around the rules.
   */
  nonMimeFields?: boolean;
}

class Scanner {
  readonly #b: Uint8Array;
  readonly #len: number;
  /** Scan position: always at a line start. */
  #pos = 0;
  /** LF bytes before #pos. */
  #lf = 0;
  /** Open boundaries, outermost first. */
  readonly #stack: Uint8Array[] = [];
  #parts = 0;

  readonly #nonMimeFields: boolean;

  constructor(bytes: Uint8Array, nonMimeFields: boolean) {
    this.#b = bytes;
    this.#len = bytes.length;
    this.#nonMimeFields = nonMimeFields;
  }

  /** Offset just after the LF ending the line at `pos`, or the end of input. */
  #lineEnd(pos: number): number {
    const i = this.#b.indexOf(LF, pos);
    return i < 0 ? this.#len : i + 1;
  }

  /** Moves past the line at #pos, which ends at `end`. */
  #consume(end: number): void {
    if (end > this.#pos && this.#b[end - 1] === LF) this.#lf++;
    this.#pos = end;
  }

  /** If the line `[pos, end)` is a delimiter of an open boundary, describes it. */
  #delimiter(pos: number, end: number): Delimiter | null {
    const b = this.#b;
    const stack = this.#stack;
    if (stack.length === 0 || b[pos] !== DASH || b[pos + 1] !== DASH) return null;
    // Content of the line without its line ending and trailing white space.
    let contentEnd = end;
    while (contentEnd > pos && (b[contentEnd - 1] === LF || b[contentEnd - 1] === CR)) contentEnd--;
    const avail = contentEnd - pos - 2;
    let best = -1;
    // RFC 2046 §5.1.2: search innermost first so a reused boundary binds to the inner part;
    // of several prefixes take the longest (Dovecot does the same).
    for (let level = stack.length - 1; level >= 0; level--) {
      const bd = stack[level];
      if (bd.length > avail || (best >= 0 && stack[best].length >= bd.length)) continue;
      let k = 0;
      while (k < bd.length && b[pos + 2 + k] === bd[k]) k++;
      if (k < bd.length) continue;
      best = level;
      // Exact: only "--", white space, or nothing follows (RFC 2046 §5.1.1 allows LWSP).
      let j = pos + 2 + bd.length;
      if (j + 1 < contentEnd && b[j] === DASH && b[j + 1] === DASH) j += 2;
      while (j < contentEnd && (b[j] === SP || b[j] === HT)) j++;
      if (j === contentEnd) break;
    }
    if (best < 0) return null;
    const after = pos + 2 + stack[best].length;
    const close = after + 1 < contentEnd && b[after] === DASH && b[after + 1] === DASH;
    return { lineStart: pos, lineEnd: end, lf: this.#lf, level: best, close };
  }

  /** Skips lines until a delimiter line (left unconsumed) or the end of input. */
  #findDelimiter(): Delimiter | null {
    if (this.#stack.length === 0) {
      // No open boundary: everything to the end is this body; just count the lines.
      const b = this.#b;
      let i = b.indexOf(LF, this.#pos);
      while (i >= 0) {
        this.#lf++;
        i = b.indexOf(LF, i + 1);
      }
      this.#pos = this.#len;
      return null;
    }
    while (this.#pos < this.#len) {
      const end = this.#lineEnd(this.#pos);
      const d = this.#delimiter(this.#pos, end);
      if (d) return d;
      this.#consume(end);
    }
    return null;
  }

  /** Reads the header block at #pos into `part`; stops before a delimiter line. */
  #readHeader(part: MimePart): void {
    const b = this.#b;
    let last: HeaderField | null = null;
    while (this.#pos < this.#len) {
      const pos = this.#pos;
      const end = this.#lineEnd(pos);
      const c = b[pos];
      if (c === LF || (c === CR && b[pos + 1] === LF)) {
        // RFC 5322 §2.1: the empty line separates header and body.
        this.#consume(end);
        part.headerSeparator = end - pos;
        break;
      }
      if (c === DASH && this.#delimiter(pos, end)) break;
      if (c === SP || c === HT) {
        // RFC 5322 §2.2.3: a folded continuation of the previous field. One with no field
        // before it is kept in the header bytes but belongs to no field.
        if (last) last.end = end;
        this.#consume(end);
        continue;
      }
      const colon = fieldColon(b, pos, end);
      if (colon < 0) {
        // An mbox "From " separator as the very first line is skipped, not taken for body
        // (Python's email package does the same with its unixfrom line).
        if (pos === part.headerStart && part.depth === 0 && isMboxFrom(b, pos)) {
          this.#consume(end);
          continue;
        }
        break; // not a field: the header ends here without a blank line
      }
      if (part.headers.length < MAX_FIELDS) {
        let nameEnd = colon;
        while (nameEnd > pos && (b[nameEnd - 1] === SP || b[nameEnd - 1] === HT)) nameEnd--;
        last = new HeaderField(b, pos, nameEnd, colon + 1, end);
        part.headers.push(last);
      } else {
        last = null;
      }
      this.#consume(end);
    }
    part.headerEnd = this.#pos;
    part.bodyStart = this.#pos;
  }

  /**
   * Sets bodyEnd and lines of `part`, whose body stops at `d` (or at the end). `floor` is
   * the end of the last nested part: an ancestor never ends before its descendants.
   */
  #finish(part: MimePart, bodyLf: number, d: Delimiter | null, floor = part.bodyStart): void {
    let end = this.#len;
    let lf = this.#lf;
    if (d) {
      end = d.lineStart;
      lf = d.lf;
      // RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter. (When a nested
      // part's body is empty that line ending is the nested header's, and stays there.)
      if (end > floor && this.#b[end - 1] === LF) {
        end--;
        lf--;
        if (end > floor && this.#b[end - 1] === CR) end--;
      }
    }
    part.bodyEnd = end;
    part.lines = Math.max(0, lf - bodyLf);
  }

  /**
   * Parses one entity (a message, `isMessage`, or a body part) starting at #pos.
   * Returns the part and the delimiter that ended it (null at the end of input).
   */
  parsePart(
    depth: number,
    inDigest: boolean,
    isMessage: boolean,
  ): { part: MimePart; stop: Delimiter | null } {
    this.#parts++;
    const part = newPart(this.#pos, depth);
    this.#readHeader(part);
    interpretHeaders(part, inDigest, isMessage && !this.#nonMimeFields);
    const bodyLf = this.#lf;
    const container = depth < MAX_DEPTH && this.#parts < MAX_PARTS;

    if (part.type === "multipart" && container) {
      // RFC 2046 §5.1: a multipart body is preamble, parts between delimiters, epilogue.
      part.kind = "multipart";
      const boundary = paramValue(part.params, "boundary") ?? "";
      if (boundary === "") {
        // No usable boundary: a multipart without parts (BODYSTRUCTURE writes an empty one).
        const d = this.#findDelimiter();
        this.#finish(part, bodyLf, d);
        return { part, stop: d };
      }
      const level = this.#stack.length;
      this.#stack.push(textToBytes(boundary.slice(0, 1000)));
      const digest = part.subtype === "digest";
      let d = this.#findDelimiter();
      while (d && d.level === level && !d.close) {
        this.#consume(d.lineEnd);
        if (this.#parts >= MAX_PARTS) {
          d = this.#findDelimiter(); // too many parts: the rest stays unsplit
          continue;
        }
        const child = this.parsePart(depth + 1, digest, false);
        part.children.push(child.part);
        d = child.stop;
      }
      this.#stack.length = level;
      if (d && d.level === level && d.close) {
        // The epilogue runs to an enclosing delimiter or the end.
        this.#consume(d.lineEnd);
        d = this.#findDelimiter();
      }
      const last = part.children[part.children.length - 1];
      this.#finish(part, bodyLf, d, last ? last.bodyEnd : part.bodyStart);
      return { part, stop: d };
    }

    if (part.type === "message" && part.subtype === "rfc822" && container) {
      // RFC 2046 §5.2.1: the body is a complete message.
      part.kind = "message";
      const inner = this.parsePart(depth + 1, false, true);
      part.embedded = inner.part;
      this.#finish(part, bodyLf, inner.stop, inner.part.bodyEnd);
      return { part, stop: inner.stop };
    }

    const d = this.#findDelimiter();
    this.#finish(part, bodyLf, d);
    return { part, stop: d };
  }
}

/** Whether the line at `pos` starts with `From ` (an mbox separator line). */
function isMboxFrom(b: Uint8Array, pos: number): boolean {
  return b[pos] === 70 && b[pos + 1] === 114 && b[pos + 2] === 111 && b[pos + 3] === 109 &&
    b[pos + 4] === SP;
}

function newPart(start: number, depth: number): MimePart {
  return {
    headerStart: start,
    headerEnd: start,
    headerSeparator: 0,
    bodyStart: start,
    bodyEnd: start,
    headers: [],
    type: "text",
    subtype: "plain",
    params: [],
    hasContentType: false,
    encoding: "7bit",
    id: null,
    description: null,
    md5: null,
    location: null,
    disposition: null,
    dispositionParams: [],
    language: null,
    lines: 0,
    kind: "leaf",
    children: [],
    embedded: null,
    depth,
  };
}

/**
 * Applies the Content-* fields of `part.headers`; the first of each kind wins.
 *
 * A message (the top level, or one inside message/rfc822) with neither MIME-Version nor
 * Content-Type is not MIME (RFC 2045 §4): its Content-* fields are ignored, so it is
 * text/plain in 7bit (RFC 2045 §5.2, §6.1) even when it says "Content-Transfer-Encoding:
 * 8bit" — as Dovecot reads it (such mail is common in the SpamAssassin corpus). A body
 * part of a multipart is MIME by position and always keeps its fields. (`mimeVersionRule`
 * is false for other parts, and with `ParseOptions.nonMimeFields`.)
 */
function interpretHeaders(part: MimePart, inDigest: boolean, mimeVersionRule: boolean): void {
  if (
    mimeVersionRule &&
    !part.headers.some((f) => f.lname === "mime-version" || f.lname === "content-type")
  ) {
    return;
  }
  const seen: string[] = [];
  for (const f of part.headers) {
    const n = f.lname;
    if (!n.startsWith("content-") || seen.includes(n)) continue;
    if (seen.length < 32) seen.push(n);
    switch (n) {
      case "content-type": {
        // RFC 2045 §5.2: an invalid Content-Type is treated as absent.
        const ct = parseContentType(f.value);
        if (ct) {
          part.type = ct.type;
          part.subtype = ct.subtype;
          part.params = ct.params;
          part.hasContentType = true;
        }
        break;
      }
      case "content-transfer-encoding": {
        const enc = parseEncoding(f.value);
        if (enc) part.encoding = enc;
        break;
      }
      case "content-id":
        part.id = f.value;
        break;
      case "content-description":
        part.description = f.value;
        break;
      case "content-md5":
        part.md5 = f.value;
        break;
      case "content-location":
        part.location = f.value;
        break;
      case "content-language":
        part.language = parseLanguage(f.value);
        break;
      case "content-disposition": {
        const d = parseDisposition(f.value);
        if (d) {
          part.disposition = d.type;
          part.dispositionParams = d.params;
        }
        break;
      }
    }
  }
  if (!part.hasContentType && inDigest) {
    // RFC 2046 §5.1.5: in multipart/digest the default type is message/rfc822.
    part.type = "message";
    part.subtype = "rfc822";
  }
}
