/**
 * The DNS resolver the plugin host is given (plugins/engine/services.ts runs `dns.resolve`
 * through it, gated per plugin). Answers are cached (dns_cache.ts) and UDP queries share a
 * few sockets (dns_pool.ts).
 *
 * @module
 */
import type { Config } from "./config.ts";
import { createResolver, DnsError, isNegative, SYSTEM_TTL_MS } from "./dns.ts";
import { DnsCache } from "./dns_cache.ts";
import type { DnsLookup } from "../plugins/engine/services.ts";

/**
 * DNS for plugins: A, AAAA, MX and TXT through dns.ts (so `[dns] nameserver` applies,
 * as it does for delivery); PTR, CNAME and NS through Deno.resolveDns with the same
 * nameserver and timeout.
 */
export function pluginDnsLookup(dns: Config["dns"]): DnsLookup {
  const cache = new DnsCache();
  const resolver = createResolver(dns, cache);
  return async (name, type) => {
    try {
      switch (type) {
        case "A":
          return await resolver.a(name);
        case "AAAA":
          return await resolver.aaaa(name);
        case "MX":
          return await resolver.mx(name);
        case "TXT":
          return await resolver.txt(name);
      }
    } catch (e) {
      if (e instanceof DnsError && e.permanent) return [];
      throw e;
    }
    const ns = dns.nameserver;
    // Deno.resolveDns reports no TTL: its answers are kept SYSTEM_TTL_MS.
    return await cache.lookup(`${type} ${name.toLowerCase()}`, async () => {
      const opts: Deno.ResolveDnsOptions = { signal: AbortSignal.timeout(dns.timeoutMs) };
      if (ns) opts.nameServer = { ipAddr: ns.host, port: ns.port };
      try {
        return { value: await Deno.resolveDns(name, type as "PTR", opts), ttlMs: SYSTEM_TTL_MS };
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return { value: [], ttlMs: SYSTEM_TTL_MS };
        throw e;
      }
    }, isNegative);
  };
}
