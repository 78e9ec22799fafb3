/**
 * Byte <-> string helpers for header text. No I/O.
 *
 * Header bytes are decoded as UTF-8 when valid (RFC 6532 allows UTF-8 in headers) and
 * otherwise as windows-1252, so 8-bit legacy headers stay readable and never throw.
 *
 * @module
 */
import { concatBytes } from "../lib/bytes.ts";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const latin1 = new TextDecoder("windows-1252");
const decoders = new Map<string, TextDecoder | null>();

/** Decodes `bytes[start, end)`: ASCII fast path, then UTF-8, then windows-1252. */
export function bytesToText(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (end - start <= 32) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
      return s;
    }
    let s = "";
    // Chunked so a huge header never exceeds the argument limit; apply() takes the typed
    // array as array-like (a spread would walk the iterator, many times slower).
    for (let i = start; i < end; i += 8192) {
      s += String.fromCharCode.apply(
        null,
        bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[],
      );
    }
    return s;
  }
  const view = bytes.subarray(start, end);
  try {
    return utf8Fatal.decode(view);
  } catch {
    return latin1.decode(view);
  }
}

/** A TextDecoder for a MIME charset label, or null when the runtime does not know it. */
export function decoderFor(charset: string): TextDecoder | null {
  const label = charset.trim().toLowerCase();
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label === "utf8" ? "utf-8" : label);
    } catch {
      d = null;
    }
    if (decoders.size < 256) decoders.set(label, d);
  }
  return d;
}

/**
 * Decodes bytes in a named charset; unknown charsets (and failures) fall back to
 * UTF-8 when valid, else windows-1252. Never throws.
 */
export function decodeCharset(bytes: Uint8Array, charset: string): string {
  const d = decoderFor(charset);
  if (d) {
    try {
      return d.decode(bytes);
    } catch {
      // fall through to the fallback
    }
  }
  return decodeUnknown(bytes);
}

/** Bytes in an unknown charset: UTF-8 when valid, else windows-1252. Never throws. */
export function decodeUnknown(bytes: Uint8Array): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

const encoder = new TextEncoder();

/** UTF-8 encodes a string. */
export function textToBytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Whether every UTF-16 unit of `s` is 7-bit ASCII. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Concatenates byte arrays (lib/bytes.ts, re-exported: the shipped plugins import only mime/). */
export { concatBytes };
