/**
 * The DNS wire format (RFC 1035 §4.1): a query out, a response in, with name compression
 * (§4.1.4), and the DnsError every lookup fails with. No I/O: dns.ts (TCP) and
 * dns_pool.ts (UDP) send and receive.
 *
 * @module
 */

/** Why a lookup failed: nxdomain/nodata are permanent, temp is worth retrying. */
export type DnsErrorKind = "nxdomain" | "nodata" | "temp";

/** A failed lookup. */
export class DnsError extends Error {
  constructor(readonly kind: DnsErrorKind, message: string) {
    super(message);
    this.name = "DnsError";
  }

  /** NXDOMAIN or no records of the type: retrying will not help. */
  get permanent(): boolean {
    return this.kind !== "temp";
  }
}

/** One MX record (RFC 1035 §3.3.9). `exchange` has no trailing dot; "" is a null MX. */
export interface MxRecord {
  preference: number;
  exchange: string;
}

/** Record types this resolver asks for, with their RFC 1035 / RFC 3596 codes. */
export const RR_TYPE = { A: 1, CNAME: 5, MX: 15, TXT: 16, AAAA: 28, SRV: 33, TLSA: 52 } as const;

/** One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching type, data. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  matching: number;
  data: Uint8Array;
}

/** Without a trailing dot. */
export function trimDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** A parsed resource record (only the types we ask for are decoded). */
export interface ResourceRecord {
  name: string;
  type: number;
  /** Seconds the record may be cached (RFC 1035 §3.2.1). */
  ttl: number;
  data: string | MxRecord | string[] | TlsaRecord;
}

/** A parsed DNS response. */
export interface DnsResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  /** RFC 4035 §3.2.3 AD: the resolver validated the answer with DNSSEC (RFC 6840 §5.7). */
  authenticated: boolean;
  answers: ResourceRecord[];
}

/**
 * RFC 1035 §4.1: a standard query with recursion desired. The AD bit is set in the query
 * (RFC 6840 §5.7): it asks a validating resolver to report in its answer's AD bit whether
 * the answer was validated, which DANE needs (RFC 7672 §2.1). No I/O.
 */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  const labels = trimDot(name).split(".").filter((l) => l.length > 0);
  const enc = new TextEncoder();
  const parts: number[] = [
    id >> 8,
    id & 0xff,
    0x01, // RD
    0x20, // AD
    0,
    1, // QDCOUNT
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  for (const label of labels) {
    const bytes = enc.encode(label);
    if (bytes.length > 63) throw new DnsError("nxdomain", `label too long in ${name}`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0, type >> 8, type & 0xff, 0, 1); // QCLASS IN
  if (parts.length > 12 + 255 + 4) throw new DnsError("nxdomain", `name too long: ${name}`);
  return new Uint8Array(parts);
}

/** RFC 1035 §4.1: parses a response, following name compression (§4.1.4). No I/O. */
export function decodeResponse(buf: Uint8Array): DnsResponse {
  if (buf.length < 12) throw new Error("short DNS message");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (o: number) => {
    if (o + 2 > buf.length) throw new Error("truncated DNS message");
    return view.getUint16(o);
  };
  const dec = new TextDecoder();
  const readName = (start: number): [string, number] => {
    const labels: string[] = [];
    let pos = start;
    let end = -1;
    let jumps = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error("name runs past the message");
      const len = buf[pos];
      if ((len & 0xc0) === 0xc0) {
        // A pointer; a limit on jumps stops pointer loops.
        if (++jumps > 32) throw new Error("compression loop");
        if (end < 0) end = pos + 2;
        pos = u16(pos) & 0x3fff;
        continue;
      }
      if (len === 0) {
        if (end < 0) end = pos + 1;
        break;
      }
      labels.push(dec.decode(buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    return [labels.join("."), end];
  };
  const id = u16(0);
  const flags = u16(2);
  const qd = u16(4);
  const an = u16(6);
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = readName(pos)[1] + 4;
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) {
    const [name, p] = readName(pos);
    const type = u16(p);
    const ttl = u16(p + 4) * 65536 + u16(p + 6);
    const rdlen = u16(p + 8);
    const rd = p + 10;
    if (rd + rdlen > buf.length) throw new Error("record runs past the message");
    let data: ResourceRecord["data"] = "";
    switch (type) {
      case RR_TYPE.A:
        data = Array.from(buf.subarray(rd, rd + 4)).join(".");
        break;
      case RR_TYPE.AAAA: {
        const groups: string[] = [];
        for (let g = 0; g < 8; g++) groups.push(u16(rd + 2 * g).toString(16));
        data = compressV6(groups);
        break;
      }
      case RR_TYPE.MX:
        data = { preference: u16(rd), exchange: readName(rd + 2)[0] };
        break;
      case RR_TYPE.CNAME:
        data = readName(rd)[0];
        break;
      case RR_TYPE.SRV:
        // RFC 2782: priority weight port target, kept in presentation form.
        data = `${u16(rd)} ${u16(rd + 2)} ${u16(rd + 4)} ${readName(rd + 6)[0]}`;
        break;
      case RR_TYPE.TXT: {
        const strings: string[] = [];
        let q = rd;
        while (q < rd + rdlen) {
          const l = buf[q];
          strings.push(dec.decode(buf.subarray(q + 1, Math.min(q + 1 + l, rd + rdlen))));
          q += 1 + l;
        }
        data = strings;
        break;
      }
      case RR_TYPE.TLSA:
        // RFC 6698 §2.1: usage, selector, matching type (one octet each), then the data.
        if (rdlen < 3) throw new Error("short TLSA record");
        data = {
          usage: buf[rd],
          selector: buf[rd + 1],
          matching: buf[rd + 2],
          data: buf.slice(rd + 3, rd + rdlen),
        };
        break;
    }
    answers.push({ name: name.toLowerCase(), type, ttl, data });
    pos = rd + rdlen;
  }
  return {
    id,
    rcode: flags & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    authenticated: (flags & 0x0020) !== 0,
    answers,
  };
}

function compressV6(groups: string[]): string {
  // RFC 5952 §4.2: the longest run of zero groups becomes "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}
