/**
 * The DNS resolver `mailauth` expects (`resolver(name, rrtype)`, shaped like Node's
 * `dns.resolve`), built on the host's DNS service (`ctx.dns`), so lookups go through the
 * server's resolver and its `[dns] nameserver`, with no net permission in the plugin.
 *
 * Differences bridged here:
 * - `ctx.dns` answers [] for a name or type without records; Node throws an error with
 *   `code` ENOTFOUND / ENODATA, which is what mailauth counts as "no record" (and, for SPF,
 *   as a void lookup: RFC 7208 §4.6.4).
 * - TXT: `ctx.dns` joins character-strings; Node gives `string[][]`.
 * - MX: `{ preference, exchange }` -> `{ priority, exchange }`.
 * - A failing lookup (timeout, SERVFAIL) stays an error without a "no record" code, which
 *   mailauth reports as temperror.
 *
 * @module
 */
import type { DnsType, PluginDns } from "../../sdk.ts";

/** A resolver in the shape mailauth calls. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown[]>;

const TYPES = new Set<string>(["A", "AAAA", "MX", "TXT", "PTR", "CNAME", "NS"]);

/** An error with a Node-style `code` (no stack trace: "no record" is an ordinary answer). */
function dnsError(code: string, name: string, type: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new Error(`${type} ${name}: ${code}`) as Error & { code: string; hostname: string };
  Error.stackTraceLimit = limit;
  e.code = code;
  e.hostname = name;
  return e;
}

/**
 * Adapts `dns` to mailauth. `counter`, when given, is bumped per lookup (tests and the
 * benchmark use it to see how many queries a message costs).
 */
export function mailauthResolver(
  dns: PluginDns,
  counter?: { lookups: number },
): MailauthResolver {
  return async (name: string, rrtype: string) => {
    const type = rrtype.toUpperCase();
    if (!TYPES.has(type)) throw dnsError("ENOTIMP", name, type);
    if (counter) counter.lookups++;
    const records = await dns.resolve(name.replace(/\.$/, ""), type as DnsType);
    if (records.length === 0) throw dnsError("ENOTFOUND", name, type);
    switch (type) {
      case "TXT":
        return records.map((r) => [String(r)]);
      case "MX":
        return (records as Array<{ preference: number; exchange: string }>).map((m) => ({
          priority: m.preference,
          exchange: m.exchange,
        }));
      default:
        return records;
    }
  };
}

/**
 * A short-lived cache in front of `ctx.dns`: the same SPF, DKIM key and DMARC records are
 * asked for again and again (every message from a big sender), and each lookup is a round
 * trip to the server. Answers (not failures) are kept `ttlMs`; concurrent lookups of one
 * name share one query. Records carry no TTL through `ctx.dns`, so keep `ttlMs` short.
 */
export function cachedDns(dns: PluginDns, ttlMs: number, maxEntries = 10_000): PluginDns {
  const cache = new Map<string, { at: number; value: Promise<unknown[]> }>();
  return {
    resolve(name: string, type: DnsType): Promise<unknown[]> {
      if (ttlMs <= 0) return dns.resolve(name, type);
      const key = `${type} ${name.toLowerCase()}`;
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && now - hit.at < ttlMs) return hit.value;
      if (cache.size >= maxEntries) cache.clear();
      const value = dns.resolve(name, type);
      cache.set(key, { at: now, value });
      // A failure is not remembered: the next message asks again.
      value.catch(() => cache.get(key)?.value === value && cache.delete(key));
      return value;
    },
  };
}
