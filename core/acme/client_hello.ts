/**
 * Reads a TLS ClientHello (RFC 8446 §4.1.2) out of the first record of a connection,
 * without consuming it: the server name (SNI, RFC 6066 §3) and ALPN protocols (RFC 7301
 * §3.1) that route a connection on the https port, and what the TLS-ALPN-01 responder
 * (tls_alpn_responder.ts) needs to answer it. Anything malformed or truncated yields what
 * was found so far; nothing here throws on input.
 *
 * @module
 */

export interface ClientHello {
  serverName: string | null;
  alpn: string[];
  sessionId: Uint8Array;
  cipherSuites: number[];
  /** supported_versions (RFC 8446 §4.2.1). */
  versions: number[];
  /** signature_algorithms (§4.2.3). */
  sigAlgs: number[];
  /** The client's X25519 key share (§4.2.8), if it sent one. */
  x25519: Uint8Array | null;
  /** The whole handshake message (for the transcript), or null when the record cut it short. */
  message: Uint8Array | null;
}

/** Bytes to read before parsing: the record header's length, capped (RFC 8446 §5.1). */
export function recordLength(head: Uint8Array): number | null {
  if (head.length < 5) return null;
  if (head[0] !== 0x16) return 0; // not a handshake record: nothing to look for
  return 5 + Math.min((head[3] << 8) | head[4], 16384);
}

export function parseClientHello(rec: Uint8Array): ClientHello {
  const out: ClientHello = {
    serverName: null,
    alpn: [],
    sessionId: new Uint8Array(),
    cipherSuites: [],
    versions: [],
    sigAlgs: [],
    x25519: null,
    message: null,
  };
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const u16 = (at: number) => v.getUint16(at);
  let p = 5;
  const need = (n: number) => p + n <= rec.length;
  if (!need(4) || rec[p] !== 0x01) return out; // handshake type client_hello
  const msgLen = (rec[p + 1] << 16) | (rec[p + 2] << 8) | rec[p + 3];
  if (p + 4 + msgLen <= rec.length) out.message = rec.slice(p, p + 4 + msgLen);
  p += 4 + 2 + 32; // type, length, legacy_version, random
  if (!need(1)) return out;
  if (need(1 + rec[p])) out.sessionId = rec.slice(p + 1, p + 1 + rec[p]);
  p += 1 + rec[p];
  if (!need(2)) return out;
  const suitesEnd = p + 2 + u16(p);
  for (let q = p + 2; q + 2 <= suitesEnd && q + 2 <= rec.length; q += 2) {
    out.cipherSuites.push(u16(q));
  }
  p = suitesEnd;
  if (!need(1)) return out;
  p += 1 + rec[p]; // legacy_compression_methods
  if (!need(2)) return out;
  const end = Math.min(rec.length, p + 2 + u16(p));
  p += 2;
  while (p + 4 <= end) {
    const type = u16(p);
    const len = u16(p + 2);
    const body = p + 4;
    p = body + len;
    if (p > end) break;
    if (type === 0 && len >= 5 && rec[body + 2] === 0) {
      const n = u16(body + 3);
      if (body + 5 + n <= p) {
        out.serverName = new TextDecoder().decode(rec.subarray(body + 5, body + 5 + n))
          .toLowerCase();
      }
    } else if (type === 16 && len >= 2) {
      for (let q = body + 2; q < p;) {
        const n = rec[q];
        if (q + 1 + n > p) break;
        out.alpn.push(new TextDecoder().decode(rec.subarray(q + 1, q + 1 + n)));
        q += 1 + n;
      }
    } else if (type === 43 && len >= 1) {
      for (let q = body + 1; q + 2 <= p; q += 2) out.versions.push(u16(q));
    } else if (type === 13 && len >= 2) {
      for (let q = body + 2; q + 2 <= p; q += 2) out.sigAlgs.push(u16(q));
    } else if (type === 51 && len >= 2) {
      for (let q = body + 2; q + 4 <= p;) {
        const group = u16(q);
        const n = u16(q + 2);
        if (q + 4 + n > p) break;
        if (group === 0x001d && n === 32) out.x25519 = rec.slice(q + 4, q + 4 + n);
        q += 4 + n;
      }
    }
  }
  return out;
}
