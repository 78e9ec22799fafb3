/**
 * MTA-STS for outbound mail (RFC 8461): the `_mta-sts` TXT record (§3.1), the policy fetched
 * over HTTPS (§3.3) and parsed strictly (§3.2), kept in the store's kv area for its max_age
 * (§5: reused while the TXT id is unchanged; a failed refresh keeps the cached policy), and
 * MX host matching (§4.1). Applying the policy is tls_policy.ts's job.
 *
 * @module
 */
import { DnsError, type DnsResolver } from "../dns.ts";
import type { Store } from "../../storage/mod.ts";
import { httpsGet } from "./https_get.ts";
import { log } from "../../lib/log.ts";

/** A parsed policy (RFC 8461 §3.2). */
export interface StsPolicy {
  mode: "enforce" | "testing" | "none";
  /** Seconds (at most 31557600, §3.2). */
  maxAge: number;
  /** MX patterns, lower-case: "mx.example.com" or "*.example.com". */
  mx: string[];
  /** The policy text as served (for TLS-RPT's policy-string, RFC 8460 §4.4). */
  text: string;
}

/** What was found for a domain: the policy to apply, or why none could be had. */
export interface StsLookup {
  policy: StsPolicy | null;
  /** RFC 8460 §4.3.2 result type when a published policy could not be used. */
  error?: "sts-policy-fetch-error" | "sts-policy-invalid" | "sts-webpki-invalid";
  detail?: string;
}

/** RFC 8461 §3.2: max_age's upper bound (one year). */
export const MAX_AGE_LIMIT = 31_557_600;
/** §3.3 leaves the limit to the sender; 64 KiB is plenty for a policy. */
export const MAX_POLICY_BYTES = 64 * 1024;
const KV_NS = "denomail:mta-sts";

/**
 * RFC 8461 §3.1: of the TXT records, those starting "v=STSv1;" count; exactly one must be
 * left, with an id of 1 to 32 letters and digits. Returns the id, or null (no policy).
 */
export function parseStsTxt(records: string[]): string | null {
  const sts = records.filter((r) => /^v=STSv1;/.test(r));
  if (sts.length !== 1) return null;
  let id: string | null = null;
  for (const field of sts[0].split(";").slice(1)) {
    const f = field.trim();
    if (f === "") continue;
    const eq = f.indexOf("=");
    if (eq <= 0) return null;
    const key = f.slice(0, eq).trim();
    const value = f.slice(eq + 1).trim();
    if (key === "id" && id === null) {
      if (!/^[A-Za-z0-9]{1,32}$/.test(value)) return null;
      id = value;
    }
  }
  return id;
}

const DOMAIN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * RFC 8461 §3.2: "key: value" lines (CRLF or LF); version STSv1, mode, max_age required; mx
 * required unless mode is none; unknown keys ignored; a repeated key other than mx, a bad
 * value or a malformed line makes the policy invalid. Returns the policy or an error text.
 */
export function parsePolicy(text: string): StsPolicy | string {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  for (const [i, raw] of lines.entries()) {
    // Trailing white space cut by hand: a lazy value followed by "[ \t]*$" rescanned it
    // from every character (quadratic: 1.5 s for one 64 KB line of a hostile policy).
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === " " || raw[end - 1] === "\t")) end--;
    const line = raw.slice(0, end);
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31})[ \t]*:[ \t]*([\x21-\x7e][\x20-\x7e\t]*)$/
      .exec(line);
    if (!m) return `line ${i + 1} is not "key: value"`;
    const [, key, value] = m;
    if (key === "mx") {
      const v = value.toLowerCase();
      const domain = v.startsWith("*.") ? v.slice(2) : v;
      if (!DOMAIN.test(domain)) return `bad mx pattern "${value}"`;
      mx.push(v);
    } else if (fields.has(key)) {
      if (["version", "mode", "max_age"].includes(key)) return `${key} given twice`;
    } else fields.set(key, value);
  }
  if (fields.get("version") !== "STSv1") return "version must be STSv1";
  const mode = fields.get("mode");
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") {
    return "mode must be enforce, testing or none";
  }
  const age = fields.get("max_age") ?? "";
  if (!/^\d{1,10}$/.test(age) || Number(age) > MAX_AGE_LIMIT) {
    return `max_age must be 0..${MAX_AGE_LIMIT} seconds`;
  }
  if (mode !== "none" && mx.length === 0) return "mx is required";
  return { mode, maxAge: Number(age), mx, text };
}

/**
 * RFC 8461 §4.1: a pattern matches the MX host name exactly, or "*.d" matches one label
 * followed by "d" (not deeper, not "d" itself). Case-insensitive.
 */
export function mxMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.toLowerCase();
  if (!p.startsWith("*.")) return h === p;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

/** Where policies come from: DNS, HTTPS, the kv area. */
export interface StsDeps {
  dns: DnsResolver;
  store: Store;
  now(): number;
  /** PEM roots for the policy host's certificate. */
  ca: string[];
  /** 443, or a test port. */
  httpsPort: number;
  timeoutMs: number;
}

interface Cached {
  id: string;
  policy: StsPolicy;
  expiresAt: number;
}

async function readCache(d: StsDeps, domain: string): Promise<Cached | null> {
  try {
    const raw = await d.store.kvGet(KV_NS, domain);
    if (!raw) return null;
    const c = JSON.parse(raw) as Cached;
    return c.expiresAt > d.now() ? c : null;
  } catch {
    return null;
  }
}

/**
 * The MTA-STS policy for `domain` (RFC 8461 §5.1): the cached one while its id matches the
 * TXT record, else a fresh fetch; a failed fetch falls back to the cached policy, else no
 * policy (reported as an error for TLS-RPT). Never throws.
 */
export async function lookupSts(d: StsDeps, domain: string): Promise<StsLookup> {
  const cached = await readCache(d, domain);
  let id: string | null;
  try {
    id = parseStsTxt(await d.dns.txt(`_mta-sts.${domain}`));
  } catch (e) {
    // §5.1: no TXT record (or a DNS failure) leaves a cached, unexpired policy in force.
    if (!(e instanceof DnsError)) throw e;
    return { policy: cached?.policy ?? null };
  }
  if (id === null) return { policy: cached?.policy ?? null };
  if (cached && cached.id === id) return { policy: cached.policy };
  let text: string;
  try {
    const res = await httpsGet(`mta-sts.${domain}`, "/.well-known/mta-sts.txt", {
      dns: d.dns,
      ca: d.ca,
      port: d.httpsPort,
      timeoutMs: d.timeoutMs,
      maxBytes: MAX_POLICY_BYTES + 4096,
    });
    // §3.3: only a 200 counts (redirects are not followed); the type is text/plain.
    if (res.status !== 200) throw new Error(`HTTP status ${res.status}`);
    const type = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "text/plain") {
      return fallback(cached, domain, "sts-policy-invalid", `Content-Type ${type || "missing"}`);
    }
    if (res.body.length > MAX_POLICY_BYTES) throw new Error("policy too large");
    text = new TextDecoder("utf-8", { fatal: true }).decode(res.body);
  } catch (e) {
    const msg = (e as Error).message;
    const webpki = /certificate|self.signed|verify|altname|CERT_/i.test(msg);
    return fallback(cached, domain, webpki ? "sts-webpki-invalid" : "sts-policy-fetch-error", msg);
  }
  const policy = parsePolicy(text);
  if (typeof policy === "string") return fallback(cached, domain, "sts-policy-invalid", policy);
  const entry: Cached = { id, policy, expiresAt: d.now() + policy.maxAge * 1000 };
  if (policy.maxAge > 0) {
    await d.store.kvSet(KV_NS, domain, JSON.stringify(entry), policy.maxAge * 1000)
      .catch((e) => log.warn("mta-sts", "policy not cached", { domain, error: e.message }));
  }
  log.info("mta-sts", "policy fetched", { domain, id, mode: policy.mode, mx: policy.mx.join(",") });
  return { policy };
}

function fallback(
  cached: Cached | null,
  domain: string,
  error: NonNullable<StsLookup["error"]>,
  detail: string,
): StsLookup {
  log.warn("mta-sts", "policy not usable", { domain, error, detail, cached: cached !== null });
  return cached ? { policy: cached.policy, error, detail } : { policy: null, error, detail };
}
