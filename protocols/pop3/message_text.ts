/**
 * Message bytes as POP3 sends them (RFC 1939 §3): byte-exact, dot-stuffed, terminated by
 * ".". Pure: no I/O.
 *
 * Stored messages use CRLF line endings; a bare LF is still treated as a line end when
 * stuffing, so no client that splits on LF can ever see a premature terminating ".".
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/**
 * The body of a multi-line response carrying `message`: every line that starts with "."
 * gets one more, a CRLF is added when the message does not end with a line end, and the
 * terminating ".\r\n" follows.
 */
export function dotStuffed(message: Uint8Array): Uint8Array {
  const n = message.length;
  let extra = 0;
  if (n > 0 && message[0] === DOT) extra++;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) {
    if (i + 1 < n && message[i + 1] === DOT) extra++;
  }
  const needsEol = n > 0 && message[n - 1] !== LF;
  const out = new Uint8Array(n + extra + (needsEol ? 2 : 0) + 3);
  let o = 0;
  let from = 0;
  if (n > 0 && message[0] === DOT) out[o++] = DOT;
  for (let i = message.indexOf(LF); i >= 0; i = message.indexOf(LF, i + 1)) {
    if (i + 1 < n && message[i + 1] === DOT) {
      out.set(message.subarray(from, i + 1), o);
      o += i + 1 - from;
      out[o++] = DOT;
      from = i + 1;
    }
  }
  out.set(message.subarray(from), o);
  o += n - from;
  if (needsEol) {
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = DOT;
  out[o++] = CR;
  out[o++] = LF;
  return out;
}

/**
 * RFC 1939 §7 TOP: the header, the blank line that ends it, and the first `lines` lines of
 * the body. A message without a blank line is all header and is returned whole.
 */
export function topOf(message: Uint8Array, lines: number): Uint8Array {
  const n = message.length;
  // Find the empty line that ends the header (CRLF CRLF, or a bare-LF variant).
  let bodyStart = -1;
  let lineStart = 0;
  while (lineStart < n) {
    const lf = message.indexOf(LF, lineStart);
    if (lf < 0) break;
    const contentLen = lf - lineStart - (lf > lineStart && message[lf - 1] === CR ? 1 : 0);
    if (contentLen === 0) {
      bodyStart = lf + 1;
      break;
    }
    lineStart = lf + 1;
  }
  if (bodyStart < 0) return message;
  let end = bodyStart;
  for (let k = 0; k < lines && end < n; k++) {
    const lf = message.indexOf(LF, end);
    end = lf < 0 ? n : lf + 1;
  }
  return message.subarray(0, end);
}
