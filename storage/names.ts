/**
 * Normalisation rules every backend applies the same way: addresses, domains, mailbox names
 * and message flags. Pure functions, no I/O.
 *
 * @module
 */
import { type FlagOp, StoreError } from "./mod.ts";
import { isDomainName, splitMailbox } from "../mime/address.ts";

/** The hierarchy delimiter of mailbox names. */
export const DELIMITER = "/";

/** True when `s` holds an ASCII control character (CTL in RFC 5234). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Lower-cases and checks a domain name (the rule of mime/address.ts `isDomainName`: RFC 5321
 * §4.1.2 LDH labels or IDNA U-labels, RFC 1035 lengths).
 */
export function normalizeDomain(name: string): string {
  const d = name.trim().toLowerCase();
  if (!isDomainName(d)) {
    throw new StoreError("invalid", `invalid domain name: ${JSON.stringify(name)}`);
  }
  return d;
}

/** Lower-cases and checks an address `local@domain`; returns it and its domain. */
export function normalizeEmail(email: string): { email: string; domain: string } {
  const e = email.trim().toLowerCase();
  const parts = splitMailbox(e);
  if (!parts || !parts.local || /\s/.test(e) || hasControl(e)) {
    throw new StoreError("invalid", `invalid address: ${JSON.stringify(email)}`);
  }
  const domain = normalizeDomain(parts.domain);
  return { email: `${parts.local}@${domain}`, domain };
}

/** An alias source: an address, or `@domain` for a catch-all. */
export function normalizeAliasSource(source: string): string {
  const s = source.trim().toLowerCase();
  if (s.startsWith("@")) return `@${normalizeDomain(s.slice(1))}`;
  return normalizeEmail(s).email;
}

/**
 * Checks a mailbox name and spells INBOX in upper case.
 *
 * RFC 9051 §5.1: "INBOX" is case-insensitive, every other name is case-sensitive. Its
 * first hierarchy level is treated the same way, so "inbox/x" is "INBOX/x".
 */
export function normalizeMailboxName(name: string): string {
  if (
    !name || name.startsWith(DELIMITER) || name.endsWith(DELIMITER) ||
    name.includes(DELIMITER + DELIMITER) || hasControl(name) || name.length > 1000
  ) {
    throw new StoreError("invalid", `invalid mailbox name: ${JSON.stringify(name)}`);
  }
  const slash = name.indexOf(DELIMITER);
  const first = slash < 0 ? name : name.slice(0, slash);
  if (first.toUpperCase() === "INBOX" && first !== "INBOX") {
    return "INBOX" + (slash < 0 ? "" : name.slice(slash));
  }
  return name;
}

const SYSTEM_FLAGS = new Map(
  ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((f) => [f.toLowerCase(), f]),
);

/**
 * Dedupes flags case-insensitively, spells system flags canonically (RFC 9051 §2.3.2) and
 * drops \Recent, which is session state a client cannot set (RFC 3501 §2.3.2).
 * A flag is an IMAP atom: no spaces, no controls.
 */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of flags) {
    if (
      typeof f !== "string" || !f || f === "\\" || f.indexOf("\\", 1) >= 0 ||
      hasControl(f) || /[\s()\]{"%*]/.test(f)
    ) {
      throw new StoreError("invalid", `invalid flag: ${JSON.stringify(f)}`);
    }
    const lower = f.toLowerCase();
    if (lower === "\\recent" || seen.has(lower)) continue;
    seen.add(lower);
    out.push(SYSTEM_FLAGS.get(lower) ?? f);
  }
  return out;
}

/** Applies an IMAP STORE operation (FLAGS / +FLAGS / -FLAGS) to normalised flags. */
export function applyFlagOp(current: readonly string[], op: FlagOp, flags: string[]): string[] {
  switch (op) {
    case "set":
      return flags;
    case "add": {
      const have = new Set(current.map((f) => f.toLowerCase()));
      return [...current, ...flags.filter((f) => !have.has(f.toLowerCase()))];
    }
    case "remove": {
      const drop = new Set(flags.map((f) => f.toLowerCase()));
      return current.filter((f) => !drop.has(f.toLowerCase()));
    }
    default:
      throw new StoreError("invalid", `invalid flag operation: ${String(op)}`);
  }
}

/** True when both hold the same flags (case-insensitive, any order). */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => set.has(f.toLowerCase()));
}
