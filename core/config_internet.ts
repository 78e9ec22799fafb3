/**
 * The Internet-facing settings of CONTRACT.md that this module reads: `[acme]`
 * (certificates by ACME, core/acme/) and `[mta_sts]` (the policy we publish, RFC 8461
 * §3.2). Kept apart from config.ts so that file stays small; it is given the table
 * reader and the error to throw, so it imports nothing of config.ts (no cycle).
 *
 * @module
 */
import { resolve } from "node:path";

export interface AcmeConfig {
  directory: string;
  email: string | null;
  /** Names on the certificate (lower-case); the first is its CN. Default: [hostname]. */
  domains: string[];
  challenge: "http-01" | "tls-alpn-01";
  /** Absolute path of an extra root to trust for the ACME server, or null. */
  caFile: string | null;
}

export interface MtaStsConfig {
  mode: "enforce" | "testing" | "none";
  maxAgeS: number;
}

/** What is used of config.ts's TableReader. */
interface Reader {
  string(k: string, def: string): string;
  optString(k: string): string | null;
  stringList(k: string): string[];
  duration(k: string, def: string): number;
  rejectUnknown(): void;
}

type Fail = (message: string) => never;

const ADDRESS = /^[^@\s]+@[^@\s]+$/;
const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/** [acme]; absent `directory` = no ACME (null). */
export function readAcme(
  t: Reader,
  ctx: { hostname: string; tlsSet: boolean; baseDir: string },
  fail: Fail,
): AcmeConfig | null {
  const directory = t.optString("directory");
  const email = t.optString("email");
  const domains = t.stringList("domains").map((d) => d.toLowerCase());
  const challenge = t.string("challenge", "http-01");
  const caFile = t.optString("ca_file");
  t.rejectUnknown();
  if (directory === null) return null;
  if (!/^https:\/\/\S+$/.test(directory)) fail(`config: acme.directory must be an https:// URL`);
  if (ctx.tlsSet) fail(`config: acme.directory and tls.cert exclude each other`);
  if (email !== null && !ADDRESS.test(email)) {
    fail(`config: acme.email must be an address (got "${email}")`);
  }
  for (const [i, d] of domains.entries()) {
    if (!DNS_NAME.test(d)) fail(`config: acme.domains[${i}] must be a DNS name (got "${d}")`);
  }
  if (challenge !== "http-01" && challenge !== "tls-alpn-01") {
    fail(`config: acme.challenge must be "http-01" or "tls-alpn-01"`);
  }
  return {
    directory,
    email,
    domains: domains.length ? [...new Set(domains)] : [ctx.hostname.toLowerCase()],
    challenge: challenge as AcmeConfig["challenge"],
    caFile: caFile === null ? null : resolve(ctx.baseDir, caFile),
  };
}

/** [mta_sts]: mode and max_age of the policy we serve. */
export function readMtaSts(t: Reader, fail: Fail): MtaStsConfig {
  const mode = t.string("mode", "enforce");
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") {
    fail(`config: mta_sts.mode must be "enforce", "testing" or "none"`);
  }
  // RFC 8461 §3.2: max_age at most 31557600 s; weeks are recommended.
  const maxAgeS = Math.floor(t.duration("max_age", "7d") / 1000);
  if (maxAgeS < 1 || maxAgeS > 31_557_600) {
    fail(`config: mta_sts.max_age must be from "1s" to "365d"`);
  }
  t.rejectUnknown();
  return { mode: mode as MtaStsConfig["mode"], maxAgeS };
}
