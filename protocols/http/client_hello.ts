/**
 * Reads the server name (SNI, RFC 6066 §3) and the ALPN protocols (RFC 7301 §3.1) out of
 * a TLS ClientHello (RFC 8446 §4.1.2) without consuming it, so that a connection can be
 * routed before any TLS library sees it. Only the first record is looked at; anything
 * malformed or truncated yields what was found so far (the TLS server will complain).
 *
 * @module
 */

export interface HelloInfo {
  serverName: string | null;
  alpn: string[];
}

/** Bytes to read before parsing: the record header's length, capped (RFC 8446 §5.1). */
export function recordLength(head: Uint8Array): number | null {
  if (head.length < 5) return null;
  if (head[0] !== 0x16) return 0; // not a handshake record: nothing to look for
  return 5 + Math.min((head[3] << 8) | head[4], 16384);
}

export function parseClientHello(rec: Uint8Array): HelloInfo {
  const out: HelloInfo = { serverName: null, alpn: [] };
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  let p = 5;
  const need = (n: number) => p + n <= rec.length;
  if (!need(4) || rec[p] !== 0x01) return out; // handshake type client_hello
  p += 4 + 2 + 32; // type, length, legacy_version, random
  if (!need(1)) return out;
  p += 1 + rec[p]; // legacy_session_id
  if (!need(2)) return out;
  p += 2 + v.getUint16(p); // cipher_suites
  if (!need(1)) return out;
  p += 1 + rec[p]; // legacy_compression_methods
  if (!need(2)) return out;
  const end = Math.min(rec.length, p + 2 + v.getUint16(p));
  p += 2;
  while (p + 4 <= end) {
    const type = v.getUint16(p);
    const len = v.getUint16(p + 2);
    const body = p + 4;
    p = body + len;
    if (p > end) break;
    if (type === 0 && len >= 5 && rec[body + 2] === 0) {
      const n = v.getUint16(body + 3);
      if (body + 5 + n <= p) {
        out.serverName = new TextDecoder().decode(rec.subarray(body + 5, body + 5 + n))
          .toLowerCase();
      }
    } else if (type === 16 && len >= 2) {
      let q = body + 2;
      while (q < p) {
        const n = rec[q];
        if (q + 1 + n > p) break;
        out.alpn.push(new TextDecoder().decode(rec.subarray(q + 1, q + 1 + n)));
        q += 1 + n;
      }
    }
  }
  return out;
}
