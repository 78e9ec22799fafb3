/**
 * A minimal DER writer (ITU-T X.690 §8, §10): just the types a CSR (RFC 2986) and the
 * TLS-ALPN-01 challenge certificate (RFC 8737 §3) need. Writing is all we do: nothing
 * here parses input from the network.
 *
 * Why not a package: @peculiar/x509 and pkijs bring a dozen transitive modules (asn1
 * schemas, reflect-metadata, tsyringe) for what is ~100 lines of length-prefixed bytes.
 *
 * @module
 */

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Tag-length-value with a definite length (X.690 §8.1.3). */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  const n = body.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = [0x80 | bytes.length, ...bytes];
  }
  return concat([Uint8Array.of(tag, ...len), body]);
}

export const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
export const set = (...c: Uint8Array[]) => tlv(0x31, ...c);
export const octets = (b: Uint8Array) => tlv(0x04, b);
export const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
export const bool = (v: boolean) => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
export const nul = () => Uint8Array.of(0x05, 0x00);
/** BIT STRING with no unused bits (keys and signatures). */
export const bits = (b: Uint8Array) => tlv(0x03, Uint8Array.of(0), b);
/** [n] EXPLICIT (constructed, context-specific). */
export const explicit = (n: number, ...c: Uint8Array[]) => tlv(0xa0 | n, ...c);
/** [n] IMPLICIT primitive (e.g. a GeneralName dNSName is [2] IA5String). */
export const implicitPrim = (n: number, b: Uint8Array) => tlv(0x80 | n, b);

/** A non-negative INTEGER from big-endian bytes (leading zeros trimmed, sign byte added). */
export function uint(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0] & 0x80 ? concat([Uint8Array.of(0), b]) : b);
}

export const int = (n: number) => uint(Uint8Array.of(n));

/** OBJECT IDENTIFIER from dotted text (X.690 §8.19). */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const out = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const enc = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) {
      enc.unshift(0x80 | (v & 0x7f));
    }
    out.push(...enc);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime after. */
export function time(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  const utc = d.getUTCFullYear() < 2050;
  return tlv(utc ? 0x17 : 0x18, new TextEncoder().encode(utc ? s.slice(2) : s));
}

/** PEM armour. */
export function pem(label: string, der: Uint8Array): string {
  let b64 = "";
  const chunk = 0x8000;
  for (let i = 0; i < der.length; i += chunk) {
    b64 += String.fromCharCode(...der.subarray(i, i + chunk));
  }
  const lines = btoa(b64).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
