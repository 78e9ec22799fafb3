/**
 * Checks for names an admin types: domains and addresses.
 *
 * @module
 */
import { UsageError } from "./args.ts";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS domain name (lower-cased, no trailing dot, at least one dot or "localhost"). */
export function checkDomain(raw: string, what = "domain"): string {
  const d = raw.trim().toLowerCase().replace(/\.$/, "");
  const labels = d.split(".");
  if (d.length > 253 || labels.length < 1 || !labels.every((l) => LABEL.test(l))) {
    throw new UsageError(`${what}: "${raw}" is not a valid domain name`);
  }
  return d;
}

/** RFC 5322 dot-atom local part (what we create accounts for). */
const LOCAL = /^[a-z0-9!#$%&'*/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*/=?^_`{|}~-]+)*$/i;

/** "local@domain" with a dot-atom local part; returns it lower-cased. */
export function checkAddress(raw: string, what = "address"): string {
  const at = raw.lastIndexOf("@");
  const local = raw.slice(0, at);
  if (at <= 0 || local.length > 64 || !LOCAL.test(local)) {
    throw new UsageError(`${what}: "${raw}" is not a valid address (local@domain)`);
  }
  return `${local.toLowerCase()}@${checkDomain(raw.slice(at + 1), what)}`;
}

/** An alias source: an address, or "@domain" for a catch-all. */
export function checkAliasSource(raw: string): string {
  if (raw.startsWith("@")) return "@" + checkDomain(raw.slice(1), "alias source");
  return checkAddress(raw, "alias source");
}
