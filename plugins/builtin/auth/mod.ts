/**
 * builtin:auth — SPF, DKIM, ARC and DMARC verification of inbound mail (with `mailauth`),
 * an `Authentication-Results:` header field (RFC 8601) on every message, and DMARC policy
 * enforcement.
 *
 * ```toml
 * [[plugins]]
 * name = "auth"
 * module = "builtin:auth"
 * options = { authserv_id = "mx.example.com",  # RFC 8601 §2.5; default "localhost"
 *             dmarc_reject = "reject",          # p=reject fails: "reject" | "quarantine" | "none"
 *             dmarc_quarantine = "quarantine",  # p=quarantine fails: "quarantine" | "none"
 *             arc_trusted_sealers = [],         # ARC sealers whose pass overrides a DMARC fail
 *             received_spf = false,             # also add Received-SPF (RFC 7208 §9.1)
 *             timeout_ms = 1500,                # all DNS work for one message
 *             dns_cache_ms = 30000 }            # answers reused this long (0: off)
 * ```
 *
 * Invariants:
 * - DNS goes through `ctx.dns` (the server's resolver, `[dns] nameserver`): the plugin
 *   needs no permissions.
 * - The checks never fail the hook: a DNS failure or timeout becomes `temperror` results.
 * - Mail from an authenticated session is not checked: it gets `auth=pass smtp.auth=USER`.
 * - The result's `note` ("spf=pass dkim=pass aligned=1 dmarc=pass policy= arc=none", then
 *   "spfal= pdom= dkimd=" when DMARC was evaluated) is how later plugins (spam) and the
 *   host's DMARC aggregate reports (core/reports/) read the results: see `results.ts`.
 *
 * @module
 */
import { stripForgedAuthResults } from "./forged.ts";
import {
  type DataContext,
  definePlugin,
  type HookResult,
  type PluginDns,
  reject,
} from "../../sdk.ts";
import { cachedDns, mailauthResolver } from "./resolver.ts";
import { memoDns, prefetchNames } from "./prefetch.ts";
import { type AuthSummary, formatAuthNote } from "./results.ts";
import { authResultsValue, verifyMessage } from "./verify.ts";

/** The plugin's options, checked. */
export interface AuthOptions {
  authservId: string;
  dmarcReject: "reject" | "quarantine" | "none";
  dmarcQuarantine: "quarantine" | "none";
  arcTrustedSealers: string[];
  receivedSpf: boolean;
  timeoutMs: number;
  dnsCacheMs: number;
}

function oneOf<T extends string>(v: unknown, key: string, allowed: T[], dflt: T): T {
  if (v === undefined) return dflt;
  // "junk" reads as "quarantine": both mean the recipient's Junk mailbox.
  const s = v === "junk" ? "quarantine" : v;
  if (typeof s !== "string" || !allowed.includes(s as T)) {
    throw new Error(`auth: ${key} must be one of ${allowed.join(", ")}`);
  }
  return s as T;
}

/** Reads and checks `ctx.options`; a bad value throws (the hook fails, on_error applies). */
export function readAuthOptions(o: Record<string, unknown>): AuthOptions {
  const id = o.authserv_id ?? "localhost";
  if (typeof id !== "string" || id === "" || /[\s;]/.test(id)) {
    throw new Error("auth: authserv_id must be a host name");
  }
  const sealers = o.arc_trusted_sealers ?? [];
  if (!Array.isArray(sealers) || sealers.some((s) => typeof s !== "string")) {
    throw new Error("auth: arc_trusted_sealers must be a list of domains");
  }
  const timeout = o.timeout_ms ?? 1500;
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new Error("auth: timeout_ms must be a positive number");
  }
  const cacheMs = o.dns_cache_ms ?? 30_000;
  if (typeof cacheMs !== "number" || !(cacheMs >= 0)) {
    throw new Error("auth: dns_cache_ms must be a number of milliseconds (0: no cache)");
  }
  if (o.received_spf !== undefined && typeof o.received_spf !== "boolean") {
    throw new Error("auth: received_spf must be true or false");
  }
  return {
    authservId: id,
    dmarcReject: oneOf(o.dmarc_reject, "dmarc_reject", ["reject", "quarantine", "none"], "reject"),
    dmarcQuarantine: oneOf(
      o.dmarc_quarantine,
      "dmarc_quarantine",
      ["quarantine", "none"],
      "quarantine",
    ),
    arcTrustedSealers: sealers.map((s: string) => s.toLowerCase().replace(/\.$/, "")),
    receivedSpf: o.received_spf === true,
    timeoutMs: timeout,
    dnsCacheMs: cacheMs,
  };
}

/** The d= of the highest-instance ARC-Seal (RFC 8617 §4.1.3), lower-case, or null. */
export function lastArcSealer(seals: string[]): string | null {
  let best: { i: number; d: string } | null = null;
  for (const s of seals) {
    const i = Number(/(?:^|;)\s*i\s*=\s*(\d+)/.exec(s)?.[1] ?? NaN);
    const d = /(?:^|;)\s*d\s*=\s*([^;\s]+)/.exec(s)?.[1];
    if (Number.isInteger(i) && d && (!best || i > best.i)) best = { i, d: d.toLowerCase() };
  }
  return best?.d ?? null;
}

/** What DMARC asks for, after local policy (RFC 7489 §6.7 and §10.2, RFC 8617 §7.2). */
export function dmarcAction(
  s: AuthSummary,
  o: AuthOptions,
  arcSealer: string | null,
): "reject" | "quarantine" | "none" {
  if (s.dmarc !== "fail") return "none";
  // RFC 8617 §7.2: a passing chain from a sealer we trust may override the DMARC failure
  // (mailing lists and forwarders break SPF and DKIM but seal what they saw).
  if (s.arc === "pass" && arcSealer && o.arcTrustedSealers.includes(arcSealer)) return "none";
  if (s.policy === "reject") return o.dmarcReject;
  if (s.policy === "quarantine") return o.dmarcQuarantine;
  return "none";
}

// The runner hands every call the same `dns` object: one cache for the process.
let dnsCache: { dns: PluginDns; ttl: number; cached: PluginDns } | null = null;

function dnsFor(dns: PluginDns, ttl: number): PluginDns {
  if (dnsCache?.dns !== dns || dnsCache.ttl !== ttl) {
    dnsCache = { dns, ttl, cached: cachedDns(dns, ttl) };
  }
  return dnsCache.cached;
}

async function data(ctx: DataContext): Promise<HookResult> {
  const o = readAuthOptions(ctx.options);
  // RFC 8601 §5: results claiming our name that arrive with the message are forged.
  const stripped = stripForgedAuthResults(ctx.message.raw, o.authservId);
  const replaced = stripped === ctx.message.raw ? {} : { message: stripped };
  // RFC 8601 §2.7.4: mail submitted by an authenticated client is recorded as auth=pass.
  if (ctx.session.user) {
    return {
      ...replaced,
      addHeaders: [[
        "Authentication-Results",
        authResultsValue(o.authservId, [`auth=pass smtp.auth=${ctx.session.user}`]),
      ]],
      note: "auth=pass",
    };
  }
  // Everything the checks are sure to look up, asked at once (one round trip, not several).
  const dns = memoDns(dnsFor(ctx.dns, o.dnsCacheMs));
  dns.prefetch(prefetchNames({
    sender: ctx.sender.address,
    helo: ctx.session.helo,
    headers: ctx.message.headers,
  }));
  const out = await verifyMessage(
    {
      raw: ctx.message.raw,
      ip: ctx.session.remoteIp,
      helo: ctx.session.helo,
      sender: ctx.sender.address,
      authservId: o.authservId,
      headers: ctx.message.headers,
    },
    mailauthResolver(dns),
    { timeoutMs: o.timeoutMs },
  );
  const headers: [string, string][] = [["Authentication-Results", out.header]];
  if (o.receivedSpf && out.receivedSpf) headers.push(["Received-SPF", out.receivedSpf]);
  const note = formatAuthNote(out.summary);
  const action = dmarcAction(out.summary, o, lastArcSealer(ctx.message.headerAll("arc-seal")));
  switch (action) {
    case "reject":
      // RFC 7489 §6.6.2 / RFC 9989: reject a failing message of a p=reject domain.
      return {
        ...reject(550, "5.7.1", `DMARC policy of the From domain rejects this message`),
        note,
      };
    case "quarantine":
      // RFC 7489 §6.3 p=quarantine: "treat as suspicious": file in Junk. The verdict stays
      // "continue" so later plugins (spam) still score and tag the message.
      return { ...replaced, addHeaders: headers, note, mailbox: "Junk" };
    default:
      return { ...replaced, addHeaders: headers, note };
  }
}

export default definePlugin({ hooks: { data } });
