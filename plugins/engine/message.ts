/**
 * A read-only view of a message for plugins: the header block parsed into fields, the body
 * located, and helpers to add header fields or replace the body. Pure: no I/O.
 *
 * @module
 */
import type { HeaderField, MessageView } from "../sdk.ts";
import { concatBytes, indexOfBytes } from "../../lib/bytes.ts";

const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);

/** Offset of the first body byte (after the blank line), or raw.length when none. */
export function bodyOffset(raw: Uint8Array): number {
  // RFC 5322 §2.1: the header block ends at the first empty line.
  if (raw.length >= 2 && raw[0] === 13 && raw[1] === 10) return 2;
  const crlf2 = indexOfBytes(raw, CRLF_CRLF);
  if (crlf2 >= 0) return crlf2 + 4;
  // Tolerate bare LF line ends.
  for (let i = 0; i + 1 < raw.length; i++) {
    if (raw[i] === 10 && raw[i + 1] === 10) return i + 2;
  }
  return raw.length;
}

/** Parses a header block into [name, unfolded value] pairs (RFC 5322 §2.2.3). */
export function parseHeaders(raw: Uint8Array): HeaderField[] {
  const end = bodyOffset(raw);
  // RFC 6532: header values may be UTF-8.
  const text = new TextDecoder().decode(raw.subarray(0, end));
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && fields.length > 0) {
      fields[fields.length - 1][1] += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** Builds the MessageView a plugin sees. */
export function messageView(raw: Uint8Array): MessageView {
  let headers: HeaderField[] | null = null;
  const all = () => headers ??= parseHeaders(raw);
  const body = () => raw.subarray(bodyOffset(raw));
  return {
    get headers() {
      return all();
    },
    raw,
    size: raw.length,
    header(name) {
      const n = name.toLowerCase();
      return all().find(([k]) => k.toLowerCase() === n)?.[1];
    },
    headerAll(name) {
      const n = name.toLowerCase();
      return all().filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
    },
    body,
    bodyText: () => new TextDecoder().decode(body()),
    text: () => new TextDecoder().decode(raw),
  };
}

const enc = new TextEncoder();

/** A header field name is printable ASCII without ":" (RFC 5322 §3.6.8). */
export function validHeaderName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]{1,76}$/.test(name);
}

/**
 * Prepends header fields and/or replaces the body. Values lose CR/LF so a plugin cannot
 * inject lines; invalid names are skipped.
 */
export function rewriteMessage(
  raw: Uint8Array,
  change: { addHeaders?: HeaderField[]; body?: Uint8Array },
): Uint8Array {
  const prefix = (change.addHeaders ?? [])
    .filter(([n]) => validHeaderName(n))
    .map(([n, v]) => `${n}: ${String(v).replace(/[\r\n]+/g, " ")}\r\n`)
    .join("");
  const off = bodyOffset(raw);
  const head = change.body ? raw.subarray(0, off) : raw;
  const tail = change.body ?? new Uint8Array(0);
  return concatBytes([enc.encode(prefix), head, tail]);
}
