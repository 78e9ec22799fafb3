/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8) for BINARY[] (RFC 3516).
 * Lenient: invalid input is skipped or kept, never thrown on.
 *
 * @module
 */
import type { MimePart } from "./types.ts";

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}
// RFC 4648 §5 URL-safe letters, seen in the wild.
B64[45] = 62;
B64[95] = 63;

/**
 * Decodes base64 (RFC 2045 §6.8): characters outside the alphabet are ignored, decoding
 * stops at the first `=` pad, and a trailing partial group yields its whole bytes.
 */
export function decodeBase64(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((input.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === 61) break;
    const v = B64[c];
    if (v < 0) continue;
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) {
    out[o++] = (acc >> 4) & 0xff;
  } else if (n === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
  }
  return out.subarray(0, o);
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes quoted-printable (RFC 2045 §6.7): `=XX` (either case) is a byte, `=` at the end
 * of a line is a soft line break, white space before a line break is dropped (rule 3),
 * and an `=` not starting a valid escape is kept as it is.
 */
export function decodeQuotedPrintable(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length);
  let o = 0;
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input[i];
    if (c === 61) {
      const h = hex(input[i + 1] ?? -1), l = hex(input[i + 2] ?? -1);
      if (i + 2 < n && h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        i += 3;
        continue;
      }
      // Soft line break: "=" then optional white space then CRLF / LF / end.
      let j = i + 1;
      while (j < n && (input[j] === 32 || input[j] === 9)) j++;
      if (j >= n || input[j] === 10 || (input[j] === 13 && input[j + 1] === 10)) {
        i = j >= n ? n : input[j] === 10 ? j + 1 : j + 2;
        continue;
      }
      out[o++] = c;
      i++;
      continue;
    }
    if (c === 32 || c === 9) {
      // Rule 3: transport padding before a line break is not data.
      let j = i;
      while (j < n && (input[j] === 32 || input[j] === 9)) j++;
      if (j >= n || input[j] === 10 || (input[j] === 13 && input[j + 1] === 10)) {
        i = j;
        continue;
      }
      while (i < j) out[o++] = input[i++];
      continue;
    }
    out[o++] = c;
    i++;
  }
  return out.subarray(0, o);
}

/**
 * The decoded body of a part for BINARY[section] (RFC 3516 §4.2): base64 and
 * quoted-printable are decoded; 7bit, 8bit and binary are returned as they are (a view).
 * Returns null for an unknown transfer encoding (the server answers `[UNKNOWN-CTE]`).
 */
export function decodeBody(bytes: Uint8Array, part: MimePart): Uint8Array | null {
  const body = bytes.subarray(part.bodyStart, part.bodyEnd);
  switch (part.encoding) {
    case "base64":
      return decodeBase64(body);
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    case "7bit":
    case "8bit":
    case "binary":
      return body;
    default:
      return null;
  }
}
