/**
 * MX / A / AAAA / TXT lookups through one resolver that tests can point anywhere.
 *
 * With `[dns].nameserver` set, queries go to that server with a small RFC 1035 client (UDP,
 * TCP when the answer is truncated). Without it, the system resolver (`Deno.resolveDns`) is
 * used. Every failure is a DnsError whose `kind` says whether it is permanent
 * (`nxdomain`, `nodata`) or temporary (`temp`: timeout, SERVFAIL, REFUSED, network error).
 *
 * Limitation: `Deno.resolveDns` reports SERVFAIL like NXDOMAIN, so with the system resolver a
 * SERVFAIL counts as "no records". Configure a nameserver to get the distinction.
 *
 * The wire format is in dns_wire.ts. UDP queries to a nameserver share a few sockets (dns_pool.ts), process-wide. A resolver
 * made with a `DnsCache` (dns_cache.ts) keeps answers for their TTL; the system resolver
 * reports no TTL, so its answers are kept SYSTEM_TTL_MS.
 *
 * @module
 */
import type { HostPort } from "./config.ts";
import { DnsCache } from "./dns_cache.ts";
import { UdpPool } from "./dns_pool.ts";
import {
  decodeResponse,
  DnsError,
  type DnsErrorKind,
  type DnsResponse,
  encodeQuery,
  type MxRecord,
  type ResourceRecord,
  RR_TYPE,
  type TlsaRecord,
  trimDot,
} from "./dns_wire.ts";
import { concatBytes } from "../lib/bytes.ts";

export type QType = keyof typeof RR_TYPE;
export { DnsError, type DnsErrorKind, type MxRecord, RR_TYPE, type TlsaRecord };

/** Records with the resolver's DNSSEC verdict (the AD bit, RFC 4035 §3.2.3). */
export interface Authenticated<T> {
  records: T[];
  authenticated: boolean;
}

/** The resolver interface the queue and CLI use (tests may inject their own). */
export interface DnsResolver {
  mx(name: string): Promise<MxRecord[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** Each TXT record with its character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<string[]>;
  /**
   * Whether the resolver marked the answer for `name`/`type` authenticated (AD bit). Only
   * the wire resolver knows (the system resolver does not report it): absent = never.
   */
  authenticated?(name: string, type: "MX" | "A" | "AAAA"): Promise<boolean>;
  /** TLSA records (RFC 6698) with the AD bit; absent on resolvers that cannot say. */
  tlsa?(name: string): Promise<Authenticated<TlsaRecord>>;
}

/** How long the system resolver's answers are cached (it does not report their TTL). */
export const SYSTEM_TTL_MS = 30_000;

/** Builds the resolver `config.dns` asks for; with `cache`, answers are reused. */
export function createResolver(
  dns: { nameserver: HostPort | null; timeoutMs: number },
  cache: DnsCache | null = null,
): DnsResolver {
  return dns.nameserver
    ? new WireResolver(dns.nameserver, dns.timeoutMs, cache)
    : new SystemResolver(dns.timeoutMs, cache);
}

/** A DnsError that is a negative answer (kept in a cache), not a failure. */
export function isNegative(e: unknown): boolean {
  return e instanceof DnsError && e.permanent;
}

/** The system resolver through Deno.resolveDns. */
class SystemResolver implements DnsResolver {
  constructor(readonly timeoutMs: number, readonly cache: DnsCache | null = null) {}

  #query<T>(name: string, type: QType): Promise<T[]> {
    if (!this.cache) return this.#ask<T>(name, type);
    return this.cache.lookup(
      `${type} ${name.toLowerCase()}`,
      async () => ({ value: await this.#ask<T>(name, type), ttlMs: SYSTEM_TTL_MS }),
      isNegative,
    );
  }

  async #ask<T>(name: string, type: QType): Promise<T[]> {
    try {
      // deno-lint-ignore no-explicit-any
      const r = await Deno.resolveDns(name, type as any, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if ((r as unknown[]).length === 0) throw new DnsError("nodata", `${name} has no ${type}`);
      return r as T[];
    } catch (e) {
      if (e instanceof DnsError) throw e;
      if (e instanceof Deno.errors.NotFound) {
        throw new DnsError("nodata", `${name}: no ${type} records`);
      }
      throw new DnsError("temp", `${name} ${type}: ${(e as Error).message}`);
    }
  }

  async mx(name: string): Promise<MxRecord[]> {
    const r = await this.#query<{ preference: number; exchange: string }>(name, "MX");
    return r.map((m) => ({ preference: m.preference, exchange: trimDot(m.exchange) }));
  }
  a(name: string): Promise<string[]> {
    return this.#query<string>(name, "A");
  }
  aaaa(name: string): Promise<string[]> {
    return this.#query<string>(name, "AAAA");
  }
  async txt(name: string): Promise<string[]> {
    const r = await this.#query<string[]>(name, "TXT");
    return r.map((parts) => parts.join(""));
  }
}

/**
 * UDP socket pools by nameserver, shared by every resolver of the process. Module-level on
 * purpose: sockets are a resource of the process, and a pool holds no answers (those are
 * in each resolver's DnsCache).
 */
const pools = new Map<string, UdpPool>();
function poolFor(server: HostPort): UdpPool {
  const key = `${server.host}|${server.port}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, pool = new UdpPool(server));
  return pool;
}

/** Sends queries to one configured nameserver. */
export class WireResolver implements DnsResolver {
  constructor(
    readonly server: HostPort,
    readonly timeoutMs: number,
    readonly cache: DnsCache | null = null,
  ) {}

  #query(name: string, type: QType): Promise<ResourceRecord[]> {
    return this.#lookup(name, type).then((a) => a.records);
  }

  #lookup(name: string, type: QType): Promise<Authenticated<ResourceRecord>> {
    if (!this.cache) return this.#ask(name, type);
    return this.cache.lookup(
      `${type} ${name.toLowerCase()}`,
      async () => {
        const answer = await this.#ask(name, type);
        return {
          value: answer,
          ttlMs: Math.min(...answer.records.map((r) => r.ttl)) * 1000,
        };
      },
      isNegative,
    );
  }

  async #ask(name: string, type: QType): Promise<Authenticated<ResourceRecord>> {
    const code = RR_TYPE[type];
    const deadline = Date.now() + this.timeoutMs;
    let res: DnsResponse;
    try {
      // Resend once midway: UDP may lose the datagram.
      const x = await poolFor(this.server).exchange(
        (id) => encodeQuery(id, name, code),
        deadline,
        Math.max(200, this.timeoutMs / 2),
      );
      res = x.response;
      // RFC 1035 §4.2.2 / RFC 7766: a truncated UDP answer is retried over TCP.
      if (res.truncated) res = await this.#tcp(x.query, x.id, deadline);
    } catch (e) {
      if (e instanceof DnsError) throw e;
      throw new DnsError("temp", `${name} ${type}: ${(e as Error).message}`);
    }
    // RFC 1035 §4.1.1: RCODE 3 is NXDOMAIN (permanent); 2 SERVFAIL, 5 REFUSED ... temporary.
    if (res.rcode === 3) throw new DnsError("nxdomain", `${name}: no such domain`);
    if (res.rcode !== 0) throw new DnsError("temp", `${name} ${type}: DNS rcode ${res.rcode}`);
    const out = res.answers.filter((r) => r.type === code);
    if (out.length === 0) throw new DnsError("nodata", `${name}: no ${type} records`);
    return { records: out, authenticated: res.authenticated };
  }

  async #tcp(query: Uint8Array, id: number, deadline: number): Promise<DnsResponse> {
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const conn = await Deno.connect({ hostname: this.server.host, port: this.server.port });
    const onAbort = () => conn.close();
    signal.addEventListener("abort", onAbort);
    try {
      const framed = new Uint8Array(query.length + 2);
      framed[0] = query.length >> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      await conn.write(framed);
      const chunks: Uint8Array[] = [];
      let have = 0;
      let need = -1;
      const buf = new Uint8Array(4096);
      while (need < 0 || have < need + 2) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("DNS TCP connection closed");
        chunks.push(buf.slice(0, n));
        have += n;
        if (need < 0 && have >= 2) {
          const all = concatBytes(chunks);
          need = (all[0] << 8) | all[1];
        }
      }
      const res = decodeResponse(concatBytes(chunks).subarray(2, need + 2));
      if (res.id !== id) throw new Error("DNS id mismatch");
      return res;
    } finally {
      signal.removeEventListener("abort", onAbort);
      try {
        conn.close();
      } catch { /* closed by abort */ }
    }
  }

  /** The records of any type decoded by dns_wire.ts (`dns check` compares them). */
  records(name: string, type: QType): Promise<ResourceRecord[]> {
    return this.#query(name, type);
  }

  async mx(name: string): Promise<MxRecord[]> {
    return (await this.#query(name, "MX")).map((r) => {
      const m = r.data as MxRecord;
      return { preference: m.preference, exchange: trimDot(m.exchange) };
    });
  }
  async a(name: string): Promise<string[]> {
    return (await this.#query(name, "A")).map((r) => r.data as string);
  }
  async aaaa(name: string): Promise<string[]> {
    return (await this.#query(name, "AAAA")).map((r) => r.data as string);
  }
  async txt(name: string): Promise<string[]> {
    return (await this.#query(name, "TXT")).map((r) => (r.data as string[]).join(""));
  }
  async authenticated(name: string, type: "MX" | "A" | "AAAA"): Promise<boolean> {
    return (await this.#lookup(name, type)).authenticated;
  }
  async tlsa(name: string): Promise<Authenticated<TlsaRecord>> {
    const a = await this.#lookup(name, "TLSA");
    return { records: a.records.map((r) => r.data as TlsaRecord), authenticated: a.authenticated };
  }
}
