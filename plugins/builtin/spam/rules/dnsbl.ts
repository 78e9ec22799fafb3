/**
 * DNS block lists (RFC 5782): the client IP against IP lists (`RCVD_IN_<ZONE>`), the hosts
 * of links against URI lists (`URIBL_<ZONE>`). Lookups go through the host's DNS service,
 * all at once, within one time budget; a list that does not answer in time or fails
 * counts as "not listed" (a block list outage must not block mail).
 *
 * @module
 */
import type { PluginDns } from "../../../sdk.ts";
import type { Zone } from "../options.ts";
import { urlHost } from "../parse.ts";
import { orgDomain } from "./headers.ts";
import type { RuleHit } from "./table.ts";

/** Most link domains looked up per message. */
const MAX_URI_DOMAINS = 10;

/** RFC 5782 §2.1 / §2.4: the query name of an IPv4 or IPv6 address under `zone`. */
export function reverseName(ip: string, zone: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}.${zone}`;
  if (!ip.includes(":")) return null;
  // Expand "::" and write each of the 32 nibbles, least significant first.
  const [head, tail = ""] = ip.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  if (ip.includes("::") ? h.length + t.length > 7 : h.length !== 8) return null;
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const nibbles = groups.map((g) => g.padStart(4, "0")).join("").split("").reverse();
  return `${nibbles.join(".")}.${zone}`;
}

/** Loopback, private (RFC 1918), link-local, CGNAT and unique-local addresses. */
export function isPrivateIp(ip: string): boolean {
  return /^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/
    .test(ip) || ip === "::1" || /^f[cd]/i.test(ip) || /^fe80:/i.test(ip);
}

/** "zen.spamhaus.org" -> "ZEN_SPAMHAUS_ORG" (a rule name part). */
export function zoneRuleName(zone: string): string {
  return zone.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_|_$/g, "");
}

/** True when an answer means "listed": 127.0.0.0/8 except the 127.255.255.0/24 errors. */
function listedAnswer(records: unknown[]): boolean {
  // RFC 5782 §2.1: listings are 127.0.0.2 and up; Spamhaus answers 127.255.255.x for
  // refused or over-quota queries, which is not a listing.
  return records.some((r) =>
    typeof r === "string" && /^127\./.test(r) && !/^127\.255\.255\./.test(r)
  );
}

async function lookup(dns: PluginDns, name: string): Promise<boolean> {
  try {
    return listedAnswer(await dns.resolve(name, "A"));
  } catch {
    return false;
  }
}

/** The queries of one message: [rule name, score, query name]. */
export function blocklistQueries(
  ip: string | undefined,
  urls: string[],
  dnsbl: Zone[],
  uribl: Zone[],
  opts: { checkPrivateIps: boolean; scores: Record<string, number> },
): Array<{ rule: string; score: number; name: string }> {
  const out: Array<{ rule: string; score: number; name: string }> = [];
  if (ip && (opts.checkPrivateIps || !isPrivateIp(ip))) {
    for (const z of dnsbl) {
      const name = reverseName(ip, z.zone);
      const rule = `RCVD_IN_${zoneRuleName(z.zone)}`;
      if (name) out.push({ rule, score: opts.scores[rule] ?? z.score, name });
    }
  }
  if (uribl.length > 0) {
    const domains = new Set<string>();
    for (const u of urls) {
      const host = urlHost(u);
      if (!host) continue;
      // RFC 5782 §2.3: URI lists are keyed by the registered domain (IPs reversed).
      domains.add(/^[\d.]+$/.test(host) ? host : orgDomain(host));
      if (domains.size >= MAX_URI_DOMAINS) break;
    }
    for (const z of uribl) {
      const rule = `URIBL_${zoneRuleName(z.zone)}`;
      for (const d of domains) {
        const name = /^[\d.]+$/.test(d) ? reverseName(d, z.zone) : `${d}.${z.zone}`;
        if (name) out.push({ rule, score: opts.scores[rule] ?? z.score, name });
      }
    }
  }
  return out;
}

/** Runs the queries; each rule fires at most once. Never throws. */
export async function blocklistRules(
  dns: PluginDns,
  queries: Array<{ rule: string; score: number; name: string }>,
  timeoutMs: number,
): Promise<RuleHit[]> {
  if (queries.length === 0) return [];
  const fired = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const all = Promise.all(queries.map(async (q) => {
    if (await lookup(dns, q.name)) fired.set(q.rule, q.score);
  }));
  await Promise.race([all, new Promise((r) => timer = setTimeout(r, timeoutMs))]);
  clearTimeout(timer);
  return [...fired].map(([name, score]) => ({ name, score }));
}
