/**
 * A read-only view of a message for plugins: the header block parsed into fields, the body
 * located, and helpers to add header fields or replace the body. Pure: no I/O.
 *
 * @module
 */
import type { HeaderField, MessageView, Reads } from "../sdk.ts";
import type { WireMessage } from "./protocol.ts";
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

/**
 * What a plugin may see of a message (sdk.ts `Reads`): "message" (all), "headers" (`raw` is
 * the header block only) or "envelope" (`raw` is empty); `size` is the whole message's,
 * `denied` the error text for what was not sent.
 */
export interface ViewLimit {
  reads: "envelope" | "headers";
  size: number;
  denied: string;
}

/**
 * Builds the MessageView a plugin sees. Under a `limit` the parts that were not sent throw
 * (an error, never empty data a plugin could mistake for an empty body).
 */
export function messageView(raw: Uint8Array, limit?: ViewLimit): MessageView {
  let headers: HeaderField[] | null = null;
  const refuse = (): never => {
    throw new Error(limit!.denied);
  };
  const all = () => limit?.reads === "envelope" ? refuse() : headers ??= parseHeaders(raw);
  const body = () => limit ? refuse() : raw.subarray(bodyOffset(raw));
  return {
    get headers() {
      return all();
    },
    get raw() {
      return limit ? refuse() : raw;
    },
    size: limit?.size ?? raw.length,
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
    text: () => limit ? refuse() : new TextDecoder().decode(raw),
  };
}

/**
 * The part of an envelope-only view (sdk.ts `Reads`) that does not change between
 * messages: everything refuses with `denied`. Made once per plugin and hook; each call's
 * view is one object on top of it holding the size (no closures per call).
 */
export function envelopeViewProto(denied: string): Omit<MessageView, "size"> {
  const refuse = (): never => {
    throw new Error(denied);
  };
  return Object.freeze({
    get headers(): never {
      return refuse();
    },
    get raw(): never {
      return refuse();
    },
    header: refuse,
    headerAll: refuse,
    body: refuse,
    bodyText: refuse,
    text: refuse,
  });
}

/** An envelope-only view on `proto` (from `envelopeViewProto`) for a message of `size`. */
export function envelopeView(proto: Omit<MessageView, "size">, size: number): MessageView {
  const v = Object.create(proto) as MessageView;
  v.size = size;
  return v;
}

/** The bytes to send a plugin that reads `reads` of `raw` (no copy: a view or nothing). */
export function readsSlice(
  raw: Uint8Array,
  reads: "envelope" | "headers" | "message",
): Uint8Array | undefined {
  if (reads === "message") return raw;
  return reads === "headers" ? raw.subarray(0, bodyOffset(raw)) : undefined;
}

/**
 * A call's `ctx.message` and payload for a plugin that reads `reads` (sdk.ts `Reads`):
 * the message, its header block, or nothing; never more than was declared.
 */
export function wireMessage(
  message: Uint8Array,
  reads: Reads,
): { wire: WireMessage; bytes: Uint8Array | undefined } {
  const bytes = readsSlice(message, reads);
  if (reads === "message") return { wire: { bin: true }, bytes };
  const wire: WireMessage = { reads, size: message.length };
  if (bytes) wire.bin = true;
  return { wire, bytes };
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
