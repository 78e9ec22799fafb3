/**
 * Where mail for a domain goes: MX hosts in preference order (RFC 5321 §5.1), equal
 * preferences shuffled, the implicit MX (the domain's own A/AAAA) when there is no MX,
 * null MX (RFC 7505) a permanent failure, and each host's addresses.
 *
 * @module
 */
import { DnsError, type DnsResolver, type MxRecord } from "../dns.ts";
import { DeliveryError } from "./failure.ts";

/** One host to try, with its addresses (IPv4 first). */
export interface MxHost {
  host: string;
  preference: number;
}

/** Orders MX records: lowest preference first, ties shuffled (RFC 5321 §5.1). No I/O. */
export function orderMx(records: MxRecord[], random: () => number = Math.random): MxHost[] {
  const shuffled = records.map((r) => ({ r, k: random() }));
  shuffled.sort((a, b) => a.r.preference - b.r.preference || a.k - b.k);
  const seen = new Set<string>();
  const out: MxHost[] = [];
  for (const { r } of shuffled) {
    const host = r.exchange.toLowerCase();
    if (seen.has(host)) continue;
    seen.add(host);
    out.push({ host, preference: r.preference });
  }
  return out;
}

function dnsFailure(e: unknown, what: string): DeliveryError {
  if (e instanceof DnsError && e.permanent) {
    // RFC 3463: 5.1.2 bad destination system address (the domain does not exist).
    return new DeliveryError({
      permanent: true,
      status: "5.1.2",
      diagnostic: `550 5.1.2 ${what}: ${e.message}`,
    });
  }
  return new DeliveryError({
    permanent: false,
    status: "4.4.3",
    diagnostic: `451 4.4.3 ${what}: DNS lookup failed: ${(e as Error).message}`,
  });
}

/**
 * The hosts that receive mail for `domain`. A domain literal "[192.0.2.1]" is its own host.
 * Throws DeliveryError: permanent for NXDOMAIN / null MX, temporary for DNS trouble.
 */
export async function mxHosts(
  domain: string,
  dns: DnsResolver,
  random: () => number = Math.random,
): Promise<MxHost[]> {
  // RFC 5321 §4.1.3: an address literal names the host itself.
  if (domain.startsWith("[") && domain.endsWith("]")) {
    return [{ host: domain.slice(1, -1).replace(/^IPv6:/i, ""), preference: 0 }];
  }
  let records: MxRecord[];
  try {
    records = await dns.mx(domain);
  } catch (e) {
    // RFC 5321 §5.1: no MX records (but the name exists) -> the domain itself is the MX.
    if (e instanceof DnsError && e.kind === "nodata") return [{ host: domain, preference: 0 }];
    throw dnsFailure(e, domain);
  }
  // RFC 7505 §3: a single MX with exchange "." means the domain accepts no mail.
  if (records.some((r) => r.exchange === "" || r.exchange === ".")) {
    return nullMx(domain);
  }
  return orderMx(records, random);
}

function nullMx(domain: string): never {
  // RFC 7505 §4.1: 556 5.1.10 "Recipient address has null MX".
  throw new DeliveryError({
    permanent: true,
    status: "5.1.10",
    diagnostic: `556 5.1.10 ${domain} does not accept mail (null MX)`,
  });
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The addresses of one MX host: A first, then AAAA (RFC 5321 §5.1). An IP literal is
 * returned as is. Throws DnsError when the host has neither.
 */
export async function hostAddresses(host: string, dns: DnsResolver): Promise<string[]> {
  if (IPV4.test(host) || host.includes(":")) return [host];
  const [a, aaaa] = await Promise.allSettled([dns.a(host), dns.aaaa(host)]);
  const out = [
    ...(a.status === "fulfilled" ? a.value : []),
    ...(aaaa.status === "fulfilled" ? aaaa.value : []),
  ];
  if (out.length > 0) return out;
  const err = [a, aaaa].map((r) => r.status === "rejected" ? r.reason : null)
    .find((e) => e instanceof DnsError && !e.permanent) ??
    (a.status === "rejected" ? a.reason : new DnsError("nodata", `${host}: no address`));
  throw err;
}
