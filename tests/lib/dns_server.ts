/**
 * A DNS server on 127.0.0.1 for tests (npm dns2, UDP), answering from a mutable zone map.
 * Names missing from the zone get NXDOMAIN; a known name without the asked type gets an
 * empty NOERROR answer (NODATA). An entry with `ad` answers with the AD bit set (as a
 * validating resolver does for a DNSSEC-signed zone, RFC 4035 §3.2.3); TLSA records
 * (RFC 6698, type 52) are served as raw RDATA.
 *
 * @module
 */
import dns2 from "dns2";
import { Buffer } from "node:buffer";

/** RFC 6698 §7.1: the TLSA RR type (dns2 has no codec: raw RDATA is sent). */
const TLSA = 52;

/** "3 1 1 ab12…" as TLSA fields. */
function tlsaFields(v: string) {
  const [u, sel, m, hex] = v.split(" ");
  const data = new Uint8Array(hex.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { usage: Number(u), selector: Number(sel), matching: Number(m), data };
}

/** Records of one name. `servfail`/`drop` simulate a broken or silent server. */
export interface ZoneEntry {
  MX?: Array<{ preference: number; exchange: string }>;
  A?: string[];
  AAAA?: string[];
  TXT?: string[];
  CNAME?: string;
  /** "priority weight port target" (RFC 2782). */
  SRV?: string[];
  /** "usage selector matching-type hex" (RFC 6698 §2.2), or the fields themselves. */
  TLSA?: Array<string | { usage: number; selector: number; matching: number; data: Uint8Array }>;
  /** Answers for this name carry the AD bit (validated by DNSSEC). */
  ad?: boolean;
  servfail?: boolean;
  drop?: boolean;
}

export interface TestDnsServer {
  port: number;
  /** "127.0.0.1:PORT", for `[dns].nameserver`. */
  nameserver: string;
  /** Lower-case names without trailing dot -> records; change it at will. */
  zone: Map<string, ZoneEntry>;
  close(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** Splits a TXT value into <=255-octet character-strings (RFC 1035 §3.3.14). */
function chunks(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out.length ? out : [""];
}

/** Starts the server on an ephemeral port. */
export async function startDnsServer(
  records: Record<string, ZoneEntry> = {},
): Promise<TestDnsServer> {
  const { Packet } = dns2 as Any;
  const zone = new Map<string, ZoneEntry>(
    Object.entries(records).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const server = (dns2 as Any).createServer({
    udp: true,
    handle: (request: Any, send: (r: Any) => void) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      const name = String(q.name).toLowerCase().replace(/\.$/, "");
      const entry = zone.get(name);
      if (entry?.drop) return;
      if (!entry) {
        response.header.rcode = 3;
      } else if (entry.servfail) {
        response.header.rcode = 2;
      } else {
        const base = { name: q.name, class: Packet.CLASS.IN, ttl: 60 };
        if (entry.ad) response.header.ad = 1;
        if (q.type === Packet.TYPE.MX) {
          for (const m of entry.MX ?? []) {
            response.answers.push({
              ...base,
              type: Packet.TYPE.MX,
              exchange: m.exchange,
              priority: m.preference,
            });
          }
        } else if (q.type === Packet.TYPE.A) {
          for (const a of entry.A ?? []) {
            response.answers.push({ ...base, type: Packet.TYPE.A, address: a });
          }
        } else if (q.type === Packet.TYPE.AAAA) {
          for (const a of entry.AAAA ?? []) {
            response.answers.push({ ...base, type: Packet.TYPE.AAAA, address: a });
          }
        } else if (q.type === Packet.TYPE.CNAME && entry.CNAME) {
          response.answers.push({ ...base, type: Packet.TYPE.CNAME, domain: entry.CNAME });
        } else if (q.type === Packet.TYPE.SRV) {
          for (const v of entry.SRV ?? []) {
            const [priority, weight, port, target] = v.split(" ");
            response.answers.push({
              ...base,
              type: Packet.TYPE.SRV,
              priority: Number(priority),
              weight: Number(weight),
              port: Number(port),
              target,
            });
          }
        } else if (q.type === TLSA) {
          for (const v of entry.TLSA ?? []) {
            const t = typeof v === "string" ? tlsaFields(v) : v;
            const data = new Uint8Array(3 + t.data.length);
            data.set([t.usage, t.selector, t.matching]);
            data.set(t.data, 3);
            response.answers.push({ ...base, type: TLSA, data: Buffer.from(data) });
          }
        } else if (q.type === Packet.TYPE.TXT) {
          for (const t of entry.TXT ?? []) {
            response.answers.push({ ...base, type: Packet.TYPE.TXT, data: chunks(t) });
          }
        }
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = server.addresses().udp.port as number;
  return {
    port,
    nameserver: `127.0.0.1:${port}`,
    zone,
    async close() {
      await server.close();
    },
  };
}
