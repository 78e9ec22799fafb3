/**
 * Response composition (RFC 9051 §7, §9): quoting, literals, flag lists, dates, status
 * lines. Everything here returns strings or bytes; nothing writes.
 *
 * @module
 */
import { isAtomChar } from "./parser.ts";
import { concatBytes } from "../../lib/bytes.ts";

const enc = new TextEncoder();

/** Text or bytes queued for the client. */
export type Chunk = string | Uint8Array;

/**
 * A string as the client must see it: quoted when it can be, otherwise a literal.
 * Non-ASCII text is sent quoted only to UTF-8 clients (IMAP4rev2), as a literal otherwise.
 */
export function str(s: string, utf8 = false): string {
  // deno-lint-ignore no-control-regex
  const needsLiteral = /[\r\n\x00]/.test(s) || (!utf8 && /[^\x00-\x7f]/.test(s)) ||
    s.length > 1000;
  if (!needsLiteral) return `"${s.replace(/[\\"]/g, "\\$&")}"`;
  return `{${enc.encode(s).length}}\r\n${s}`;
}

/** nstring: NIL or a string. */
export function nstr(s: string | null | undefined, utf8 = false): string {
  return s === null || s === undefined ? "NIL" : str(s, utf8);
}

/** astring: an atom when every character allows it, else a string. */
export function astr(s: string, utf8 = false): string {
  if (s.length > 0 && s.length < 200 && s.toUpperCase() !== "NIL") {
    let ok = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!isAtomChar(c) && c !== 0x5d) {
        ok = false;
        break;
      }
    }
    if (ok) return s;
  }
  return str(s, utf8);
}

/** A literal header `{n}\r\n` for `bytes` (the bytes themselves follow as their own chunk). */
export function literalHeader(length: number): string {
  return `{${length}}\r\n`;
}

/** flag-list: "(" [flag *(SP flag)] ")". */
export function flagList(flags: readonly string[]): string {
  return `(${flags.join(" ")})`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** date-time for INTERNALDATE (RFC 9051 §9), in UTC: "17-Jul-1996 09:44:25 +0000". */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  const day = String(d.getUTCDate()).padStart(2, " ");
  return `"${day}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${
    p(d.getUTCMinutes())
  }:${p(d.getUTCSeconds())} +0000"`;
}

/** resp-text with an optional code: "[CODE] text". */
export function respText(text: string, code?: string): string {
  return code ? `[${code}] ${text}` : text;
}

/** A tagged status line. */
export function tagged(tag: string, status: "OK" | "NO" | "BAD", text: string, code?: string) {
  return `${tag} ${status} ${respText(text, code)}\r\n`;
}

/** An untagged status or data line ("* " is added). */
export function untagged(body: string): string {
  return `* ${body}\r\n`;
}

/**
 * A sequence set in compact form ("1:3,5,7:9") for COPYUID, APPENDUID and ESEARCH.
 * `numbers` must be sorted ascending for the most compact output; any order is valid.
 */
export function compactSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j === i ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Joins chunks into one byte array (for tests and small responses). */
export function concatChunks(chunks: readonly Chunk[]): Uint8Array {
  return concatBytes(chunks.map((c) => typeof c === "string" ? enc.encode(c) : c));
}
