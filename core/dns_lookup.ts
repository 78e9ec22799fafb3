/**
 * Record lookups by type in presentation form ("10 mail.example.org", "0 1 993 host",
 * "3 1 1 ab12…"), for comparing what is published with what should be (`dns check`).
 *
 * Through the configured `[dns] nameserver` (dns.ts) every type is asked on the wire; with
 * the system resolver TLSA cannot be asked (Deno.resolveDns has no TLSA), which is reported
 * as a temporary failure naming the key to set.
 *
 * @module
 */
import type { HostPort } from "./config.ts";
import { DnsError, type QType, WireResolver } from "./dns.ts";
import type { MxRecord, ResourceRecord, TlsaRecord } from "./dns_wire.ts";

export type LookupType = QType;

/** Looks up one name and type; [] when the name or the type does not exist. */
export interface RecordLookup {
  query(name: string, type: LookupType): Promise<string[]>;
}

function presentation(r: ResourceRecord): string {
  const d = r.data;
  if (Array.isArray(d)) return d.join("");
  if (typeof d === "object" && "usage" in d) {
    // RFC 6698 §2.2: usage selector matching-type, then the data in hex.
    const t = d as TlsaRecord;
    const hex = Array.from(t.data, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${t.usage} ${t.selector} ${t.matching} ${hex}`;
  }
  if (typeof d === "object") return `${(d as MxRecord).preference} ${(d as MxRecord).exchange}`;
  return d;
}

/** [] for NXDOMAIN/NODATA; a DnsError "temp" is thrown on. */
async function orEmpty(ask: () => Promise<string[]>): Promise<string[]> {
  try {
    return await ask();
  } catch (e) {
    if (e instanceof DnsError && e.permanent) return [];
    throw e;
  }
}

/** The lookup `config.dns` asks for. */
export function createLookup(
  dns: { nameserver: HostPort | null; timeoutMs: number },
): RecordLookup {
  if (dns.nameserver) {
    const wire = new WireResolver(dns.nameserver, dns.timeoutMs);
    return {
      query: (name, type) =>
        orEmpty(async () => (await wire.records(name, type)).map(presentation)),
    };
  }
  return {
    query: (name, type) =>
      orEmpty(async () => {
        if (type === "TLSA") {
          throw new DnsError("temp", `TLSA lookups need [dns] nameserver (a resolver to ask)`);
        }
        let r: unknown[];
        try {
          // deno-lint-ignore no-explicit-any
          r = await Deno.resolveDns(name, type as any, {
            signal: AbortSignal.timeout(dns.timeoutMs),
          });
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) return [];
          throw new DnsError("temp", `${name} ${type}: ${(e as Error).message}`);
        }
        return r.map((x) => {
          if (typeof x === "string") return x;
          if (Array.isArray(x)) return x.join("");
          const o = x as Record<string, unknown>;
          if (type === "MX") return `${o.preference} ${o.exchange}`;
          if (type === "SRV") return `${o.priority} ${o.weight} ${o.port} ${o.target}`;
          return String(x);
        });
      }),
  };
}
