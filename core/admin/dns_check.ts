/**
 * `dns check DOMAIN`: each record of dns_records.ts looked up through the configured
 * resolver and compared the way a receiver reads it — SPF, DMARC, MTA-STS and TLS-RPT by
 * their tags, MX by host, CNAME hosts by target (or the same addresses), SRV by port and
 * target, TLSA by its data — not byte for byte.
 *
 * @module
 */
import type { RecordLookup } from "../dns_lookup.ts";
import type { DnsRecord } from "./dns_records.ts";

export type CheckStatus = "ok" | "missing" | "wrong";

export interface RecordCheck extends DnsRecord {
  status: CheckStatus;
  /** What is published now (of the record's kind), for the admin to compare. */
  found: string[];
  /** Why the lookup failed (a timeout, SERVFAIL): then the status is "missing". */
  error?: string;
}

const host = (s: string) => s.trim().toLowerCase().replace(/\.$/, "");

/** "k=v; k2=v2" -> map of lower-cased tags (RFC 6376 §3.2 tag-list, used by DMARC/STS/RPT). */
export function tagList(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

/** The mailto: URIs of a rua tag, lower-cased, without size suffixes (RFC 7489 §6.2). */
function ruaAddresses(rua: string | undefined): string[] {
  return (rua ?? "").split(",").map((u) => u.trim().toLowerCase().replace(/!\d+[kmgt]?$/, ""));
}

/** TXT records of the record's kind (by its version tag); the others at that name are not ours. */
function sameKind(want: string, found: string[]): string[] {
  if (want.startsWith("v=DKIM1")) return found.filter((t) => /(^|;)\s*p=/i.test(t));
  const v = want.split(/[;\s]/)[0].toLowerCase();
  return found.filter((t) => t.trim().toLowerCase().startsWith(v));
}

/** RFC 7208 §5: does this SPF record let `mxHost` (our MX) send, and end in -all/~all? */
function spfOk(spf: string, domain: string, mxHost: string, hostAddrs: string[]): boolean {
  const terms = spf.trim().toLowerCase().split(/\s+/).slice(1);
  const passes = (t: string) => !t.startsWith("-") && !t.startsWith("~") && !t.startsWith("?");
  const bare = (t: string) => t.replace(/^\+/, "");
  const allows = terms.filter(passes).map(bare).some((t) =>
    t === "mx" || t === `mx:${domain}` || t === `a:${mxHost}` ||
    ((t.startsWith("ip4:") || t.startsWith("ip6:")) && hostAddrs.includes(t.slice(4)))
  );
  const ends = terms.some((t) => t === "-all" || t === "~all");
  return allows && ends;
}

/** Compares one record with what the lookup found (its own kind only). */
function compare(
  r: DnsRecord,
  found: string[],
  ctx: { domain: string; mxHost: string; hostAddrs: string[] },
): CheckStatus {
  if (found.length === 0) return "missing";
  const want = r.value;
  switch (r.type) {
    case "MX":
      return found.some((f) => host(f.split(/\s+/)[1] ?? "") === ctx.mxHost) ? "ok" : "wrong";
    case "CNAME":
    case "SRV": {
      if (r.type === "CNAME") return found.some((f) => host(f) === host(want)) ? "ok" : "wrong";
      const [, , port, target] = want.split(" ");
      return found.some((f) => {
          const p = f.split(/\s+/);
          return p[2] === port && host(p[3] ?? "") === host(target);
        })
        ? "ok"
        : "wrong";
    }
    case "TLSA":
      return found.some((f) => f.toLowerCase().replace(/\s+/g, " ") === want) ? "ok" : "wrong";
    case "TXT": {
      // RFC 7208 §4.5: more than one SPF record is a permanent error.
      if (want.startsWith("v=spf1")) {
        return found.length === 1 && spfOk(found[0], ctx.domain, ctx.mxHost, ctx.hostAddrs)
          ? "ok"
          : "wrong";
      }
      const w = tagList(want);
      return found.some((f) => txtOk(w, tagList(f))) ? "ok" : "wrong";
    }
  }
}

/** Tag-wise: DKIM by key, DMARC by policy and rua, MTA-STS by a valid id, TLS-RPT by rua. */
function txtOk(want: Map<string, string>, got: Map<string, string>): boolean {
  // RFC 6376 §3.6.1: a key record's v= is optional.
  if (want.get("v") === "DKIM1") return got.get("p")?.replace(/\s+/g, "") === want.get("p");
  if (want.get("v")?.toLowerCase() !== got.get("v")?.toLowerCase()) return false;
  if (want.get("v") === "DMARC1") {
    const p = got.get("p")?.toLowerCase();
    const rua = ruaAddresses(got.get("rua"));
    return (p === "quarantine" || p === "reject") &&
      ruaAddresses(want.get("rua")).every((a) => rua.includes(a));
  }
  if (want.get("v") === "STSv1") return /^[a-z0-9]{1,32}$/i.test(got.get("id") ?? "");
  if (want.get("v") === "TLSRPTv1") {
    const rua = ruaAddresses(got.get("rua"));
    return ruaAddresses(want.get("rua")).every((a) => rua.includes(a));
  }
  return false;
}

/** Looks every record up and compares it; one result per record, in order. */
export async function checkRecords(
  domain: string,
  mxHost: string,
  records: DnsRecord[],
  lookup: RecordLookup,
): Promise<RecordCheck[]> {
  const hostAddrs = [
    ...(await lookup.query(mxHost, "A").catch(() => [])),
    ...(await lookup.query(mxHost, "AAAA").catch(() => [])),
  ];
  const ctx = { domain, mxHost: host(mxHost), hostAddrs };
  return await Promise.all(records.map(async (r): Promise<RecordCheck> => {
    try {
      let found = await lookup.query(r.name, r.type);
      if (r.type === "TXT") found = sameKind(r.value, found);
      // A CNAME host may instead have the server's addresses (RFC 8461 §3.2 allows either).
      if (r.type === "CNAME" && found.length === 0) {
        const a = await lookup.query(r.name, "A");
        if (a.length > 0) {
          const same = a.every((x) => hostAddrs.includes(x));
          return { ...r, status: same ? "ok" : "wrong", found: a.map((x) => `A ${x}`) };
        }
      }
      return { ...r, status: compare(r, found, ctx), found };
    } catch (e) {
      return { ...r, status: "missing", found: [], error: (e as Error).message };
    }
  }));
}

/** The CLI's line: `OK|MISSING|WRONG NAME TYPE VALUE` (VALUE: what to publish). */
export function checkLine(c: RecordCheck): string {
  const v = c.type === "TXT" ? `"${c.value}"` : c.value;
  return `${c.status.toUpperCase()} ${c.name} ${c.type} ${v}`;
}
