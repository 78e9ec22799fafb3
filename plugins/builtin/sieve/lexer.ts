/**
 * The Sieve lexer (RFC 5228 §8.1): identifiers, tags, numbers with K/M/G, quoted strings,
 * `text:` multi-line strings, and punctuation; comments are skipped. Every token carries
 * its line and column (1-based) so errors point at the script.
 *
 * Invariants: one pass, no backtracking, no RegExp built from the script; a script over
 * {@link MAX_SCRIPT_BYTES} is refused before it is read.
 *
 * @module
 */

/** Scripts longer than this (UTF-16 code units, about bytes) are refused. */
export const MAX_SCRIPT_BYTES = 256 * 1024;

/** A syntax or compile error at a place in the script. */
export class SieveError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`line ${line}:${column}: ${message}`);
    this.name = "SieveError";
  }
}

export type TokenKind =
  | "identifier"
  | "tag"
  | "number"
  | "string"
  | "punct"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** identifier/tag: lower-cased name (tag without ":"); string: its value; punct: the char. */
  text: string;
  /** number: its value. */
  value?: number;
  line: number;
  column: number;
}

const PUNCT = ";,()[]{}";
const QUANT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function isAlpha(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** Splits a script into tokens, the last one "eof". Throws SieveError. */
export function tokenize(src: string): Token[] {
  if (src.length > MAX_SCRIPT_BYTES) {
    throw new SieveError(`script too large (over ${MAX_SCRIPT_BYTES} bytes)`, 1, 1);
  }
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number) => at - lineStart + 1;
  const fail = (msg: string, at = i): never => {
    throw new SieveError(msg, line, col(at));
  };
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      newline(i);
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) fail("unterminated comment");
      for (let j = i; j < end; j++) if (src[j] === "\n") newline(j);
      i = end + 2;
    } else if (PUNCT.includes(c)) {
      out.push({ kind: "punct", text: c, line, column: col(i) });
      i++;
    } else if (c === '"') {
      const startLine = line, startCol = col(i);
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new SieveError("unterminated string", startLine, startCol);
        const d = src[i];
        if (d === '"') break;
        if (d === "\\" && i + 1 < src.length) {
          // RFC 5228 §2.4.2: "\\" and "\"" are escapes; any other "\x" is just "x".
          i++;
        }
        if (src[i] === "\n") newline(i);
        s += src[i];
        i++;
      }
      i++;
      out.push({ kind: "string", text: s, line: startLine, column: startCol });
    } else if (c === ":") {
      const start = i++;
      while (i < src.length && (isAlpha(src[i]) || isDigit(src[i]))) i++;
      if (i === start + 1 || !isAlpha(src[start + 1])) fail("bad tag", start);
      out.push({
        kind: "tag",
        text: src.slice(start + 1, i).toLowerCase(),
        line,
        column: col(start),
      });
    } else if (isDigit(c)) {
      const start = i;
      while (i < src.length && isDigit(src[i])) i++;
      let value = Number(src.slice(start, i));
      const q = QUANT[(src[i] ?? "").toLowerCase()];
      if (q) {
        value *= q;
        i++;
      }
      if (i < src.length && (isAlpha(src[i]) || isDigit(src[i]))) fail("bad number", start);
      out.push({ kind: "number", text: src.slice(start, i), value, line, column: col(start) });
    } else if (isAlpha(c)) {
      const start = i;
      while (i < src.length && (isAlpha(src[i]) || isDigit(src[i]))) i++;
      const word = src.slice(start, i).toLowerCase();
      if (word === "text" && src[i] === ":") {
        out.push(multiline(start));
      } else {
        out.push({ kind: "identifier", text: word, line, column: col(start) });
      }
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  out.push({ kind: "eof", text: "", line, column: col(i) });
  return out;

  // RFC 5228 §2.4.2: "text:" then optional blanks/comment, CRLF, lines, "." alone ends it;
  // a line starting with ".." loses one dot.
  function multiline(start: number): Token {
    const tok: Token = { kind: "string", text: "", line, column: col(start) };
    i = start + 5;
    while (src[i] === " " || src[i] === "\t") i++;
    if (src[i] === "#") { while (i < src.length && src[i] !== "\n") i++; }
    if (src[i] === "\r") i++;
    if (src[i] !== "\n") fail("text: must be followed by a line break");
    newline(i);
    i++;
    const lines: string[] = [];
    for (;;) {
      if (i >= src.length) throw new SieveError("unterminated text: string", tok.line, tok.column);
      let end = src.indexOf("\n", i);
      if (end < 0) end = src.length;
      let l = src.slice(i, end);
      if (l.endsWith("\r")) l = l.slice(0, -1);
      if (end < src.length) newline(end);
      i = end + 1;
      if (l === ".") break;
      lines.push(l.startsWith("..") ? l.slice(1) : l);
    }
    tok.text = lines.map((l) => l + "\r\n").join("");
    return tok;
  }
}
