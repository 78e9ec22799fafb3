/**
 * Checks for what an admin types — domains, addresses, passwords, sizes, ids — with the
 * messages both the CLI and the admin API show (one set of rules, one wording).
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { isDomainName, splitMailbox } from "../../mime/address.ts";

/** The value, or UsageError "missing argument NAME" when absent or empty. */
export function requireArg(v: string | undefined, name: string): string {
  if (v === undefined || v === "") throw new UsageError(`missing argument ${name}`);
  return v;
}

/** Rules every password must pass. */
export function checkPassword(pw: string): void {
  if (pw.length < 8) throw new UsageError("password must be at least 8 characters");
  if (pw.length > 1024) throw new UsageError("password must be at most 1024 characters");
}

/** "1048576", "500K", "500M", "2G" (1024-based) -> bytes; "none" -> null (no limit). */
export function parseQuotaSize(text: string): number | null {
  if (text.toLowerCase() === "none") return null;
  const m = /^(\d+)([KMG]?)B?$/i.exec(text);
  const scale: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const n = m ? Number(m[1]) * scale[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`SIZE must be a number of bytes (or with K, M, G) or "none", not ${text}`);
  }
  return n;
}

/** A queue entry id. */
export function parseQueueId(raw: string | undefined): number {
  const v = requireArg(raw, "ID");
  if (!/^\d{1,15}$/.test(v)) throw new UsageError(`ID must be a number (got "${v}")`);
  return Number(v);
}

/** The two roles an account can have. */
export type Role = "admin" | "user";

export function parseRole(raw: string | undefined): Role {
  const v = requireArg(raw, "ROLE");
  if (v !== "admin" && v !== "user") throw new UsageError(`ROLE must be admin or user, not ${v}`);
  return v;
}

/** A domain name (lower-cased, one trailing dot dropped; the rule: mime/address.ts). */
export function checkDomain(raw: string, what = "domain"): string {
  const d = raw.trim().toLowerCase().replace(/\.$/, "");
  if (!isDomainName(d)) {
    throw new UsageError(`${what}: "${raw}" is not a valid domain name`);
  }
  return d;
}

/** RFC 5322 dot-atom local part (what we create accounts for). */
const LOCAL = /^[a-z0-9!#$%&'*/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*/=?^_`{|}~-]+)*$/i;

/** "local@domain" with a dot-atom local part; returns it lower-cased. */
export function checkAddress(raw: string, what = "address"): string {
  const parts = splitMailbox(raw);
  const local = parts?.local ?? "";
  if (!parts || !local || local.length > 64 || !LOCAL.test(local)) {
    throw new UsageError(`${what}: "${raw}" is not a valid address (local@domain)`);
  }
  return `${local.toLowerCase()}@${checkDomain(parts.domain, what)}`;
}

/** An alias source: an address, or "@domain" for a catch-all. */
export function checkAliasSource(raw: string): string {
  if (raw.startsWith("@")) return "@" + checkDomain(raw.slice(1), "alias source");
  return checkAddress(raw, "alias source");
}

/** Levenshtein distance, stopping early once it exceeds `max` (names are short). */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      cur.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** A known domain `d` is probably a typo of (within edit distance 2), or undefined. */
export function likelyTypoOf(d: string, known: string[]): string | undefined {
  return known.find((k) => k !== d && editDistance(d, k) <= 2);
}
