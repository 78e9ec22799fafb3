/**
 * Message bytes as POP3 sends them (RFC 1939 §3): byte-exact, dot-stuffed, terminated by
 * ".". Pure: no I/O. The classes work chunk by chunk, so a large message is streamed in
 * bounded memory; the functions are the whole-message shorthand.
 *
 * Stored messages use CRLF line endings; a bare LF is still treated as a line end when
 * stuffing, so no client that splits on LF can ever see a premature terminating ".".
 *
 * @module
 */
import { concatBytes } from "../../lib/bytes.ts";

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const TERMINATOR = new Uint8Array([DOT, CR, LF]);
const EOL_TERMINATOR = new Uint8Array([CR, LF, DOT, CR, LF]);

/** Dot-stuffs a message given in chunks (RFC 1939 §3). */
export class DotStuffer {
  #atLineStart = true;

  /** The stuffed form of the next chunk: a "." is doubled at the start of every line. */
  push(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    if (n === 0) return chunk;
    let extra = this.#atLineStart && chunk[0] === DOT ? 1 : 0;
    for (let i = chunk.indexOf(LF); i >= 0 && i + 1 < n; i = chunk.indexOf(LF, i + 1)) {
      if (chunk[i + 1] === DOT) extra++;
    }
    let out = chunk;
    if (extra > 0) {
      out = new Uint8Array(n + extra);
      let o = 0;
      let from = 0;
      if (this.#atLineStart && chunk[0] === DOT) out[o++] = DOT;
      for (let i = chunk.indexOf(LF); i >= 0 && i + 1 < n; i = chunk.indexOf(LF, i + 1)) {
        if (chunk[i + 1] !== DOT) continue;
        out.set(chunk.subarray(from, i + 1), o);
        o += i + 1 - from;
        out[o++] = DOT;
        from = i + 1;
      }
      out.set(chunk.subarray(from), o);
    }
    this.#atLineStart = chunk[n - 1] === LF;
    return out;
  }

  /** The end of the response: a CRLF if the message did not end with a line end, then ".". */
  finish(): Uint8Array {
    return this.#atLineStart ? TERMINATOR : EOL_TERMINATOR;
  }
}

/**
 * RFC 1939 §7 TOP, chunk by chunk: passes the header, the blank line that ends it, and the
 * first `lines` lines of the body. A message without a blank line is all header.
 */
export class TopCutter {
  #inHeader = true;
  /** Octets of the current header line so far, CR excluded ("" = the line is empty so far). */
  #lineLen = 0;
  #bodyLinesLeft: number;
  #done = false;

  constructor(lines: number) {
    this.#bodyLinesLeft = lines;
  }

  /** True once everything TOP returns has been passed. */
  get done(): boolean {
    return this.#done;
  }

  /** The part of the next chunk that belongs to the TOP response. */
  take(chunk: Uint8Array): Uint8Array {
    if (this.#done) return chunk.subarray(0, 0);
    let i = 0;
    const n = chunk.length;
    while (i < n && this.#inHeader) {
      const b = chunk[i++];
      if (b === LF) {
        if (this.#lineLen === 0) this.#inHeader = false;
        this.#lineLen = 0;
      } else if (b !== CR) {
        this.#lineLen++;
      }
    }
    if (this.#inHeader) return chunk;
    while (this.#bodyLinesLeft > 0 && i < n) {
      const lf = chunk.indexOf(LF, i);
      if (lf < 0) return chunk;
      i = lf + 1;
      this.#bodyLinesLeft--;
    }
    if (this.#bodyLinesLeft === 0) this.#done = true;
    return chunk.subarray(0, i);
  }
}

/** The whole multi-line body carrying `message`, dot-stuffed and terminated. */
export function dotStuffed(message: Uint8Array): Uint8Array {
  const s = new DotStuffer();
  const body = s.push(message);
  return concatBytes([body, s.finish()]);
}

/** RFC 1939 §7 TOP of a whole message: header, blank line, `lines` body lines. */
export function topOf(message: Uint8Array, lines: number): Uint8Array {
  return new TopCutter(lines).take(message);
}
