/**
 * The DNS names a message's checks are sure to ask for, asked all at once before the checks
 * run. mailauth asks one name after another — the SPF record, each DKIM key, then DMARC's
 * tree walk of the author domain (RFC 9989 §4.10: `_dmarc.<name>` for the name and each
 * parent, up to eight names) — and each lookup is a round trip to the server's DNS service.
 * Asked together, they cost one round trip (the host answers requests that arrive together
 * in one write); the checks then find the answers waiting in a per-message memo.
 *
 * Only names the checks ask in (nearly) every run are prefetched, so this adds no DNS
 * traffic: the walk stops early only at a `psd=` tag, which few records carry.
 *
 * @module
 */
import type { DnsType, HeaderField, PluginDns } from "../../sdk.ts";
import { domainPart } from "../../../mime/address.ts";

/** RFC 9989 §4.10: a walk longer than this jumps to the last labels. */
const WALK_MAX_LABELS = 7;

/** `_dmarc.` names of a DMARC tree walk from `domain`, in walk order. */
export function treeWalkNames(domain: string): string[] {
  const names: string[] = [];
  let labels = domain.toLowerCase().replace(/\.$/, "").split(".").filter((l) => l !== "");
  while (labels.length > 0) {
    names.push(`_dmarc.${labels.join(".")}`);
    labels = labels.length > WALK_MAX_LABELS ? labels.slice(-WALK_MAX_LABELS) : labels.slice(1);
  }
  return names;
}

/** The domain of an address (the last `@`), lowercased; "" when there is none. */
function domainOf(address: string): string {
  return domainPart(address).replace(/[>\s].*$/, "").toLowerCase();
}

/** `s=` and `d=` of a DKIM-Signature value (RFC 6376 §3.5 tag list). */
function dkimKeyName(value: string): string | null {
  const tag = (t: string) => value.match(new RegExp(`(?:^|;)\\s*${t}\\s*=\\s*([^;\\s]+)`))?.[1];
  const s = tag("s");
  const d = tag("d");
  return s && d ? `${s}._domainkey.${d}`.toLowerCase() : null;
}

/** What the checks of one message will look up first. */
export function prefetchNames(input: {
  sender: string;
  helo?: string;
  headers: HeaderField[];
}): Array<[string, DnsType]> {
  const out: Array<[string, DnsType]> = [];
  // RFC 7208 §2.4: the MAIL FROM domain, or the HELO identity for the null sender.
  const spf = input.sender ? domainOf(input.sender) : input.helo?.toLowerCase() ?? "";
  if (spf) out.push([spf, "TXT"]);
  for (const [name, value] of input.headers) {
    const n = name.toLowerCase();
    if (n === "dkim-signature") {
      const key = dkimKeyName(value.replace(/\s+/g, ""));
      if (key) out.push([key, "TXT"]);
    } else if (n === "from") {
      // A From with several mailboxes, or none, has no single author domain to walk.
      const author = value.match(/@([A-Za-z0-9.-]+)/g);
      if (author?.length === 1) {
        for (const w of treeWalkNames(author[0].slice(1))) out.push([w, "TXT"]);
      }
    }
  }
  return out;
}

/**
 * A per-message memo in front of `dns`: `prefetch` starts lookups at once, and a later
 * `resolve` of the same name and type gets the same answer (or failure) without asking
 * again.
 */
export function memoDns(dns: PluginDns): PluginDns & {
  prefetch(names: Array<[string, DnsType]>): void;
} {
  const memo = new Map<string, Promise<unknown[]>>();
  const resolve = (name: string, type: DnsType) => {
    const key = `${type} ${name.toLowerCase()}`;
    let p = memo.get(key);
    if (!p) {
      p = dns.resolve(name, type);
      // A prefetch nobody asks for must not be an unhandled rejection.
      p.catch(() => {});
      memo.set(key, p);
    }
    return p;
  };
  return {
    resolve,
    prefetch(names) {
      for (const [name, type] of names) resolve(name, type);
    },
  };
}
