/**
 * Domain, account, alias, admin-role and audit-log reads of the SQLite store. A name that
 * does not normalise names nothing (null or false), as the Store interface says.
 *
 * @module
 */
import type { Account, Alias, AuditEntry } from "../../mod.ts";
import { normalizeAliasSource, normalizeDomain, normalizeEmail } from "../../names.ts";
import { ACCOUNT_COLUMNS, type Statements, toAccount } from "../rows.ts";
import { AUDIT_COLUMNS, toAuditEntry } from "../admin.ts";
import { row, rows } from "./query.ts";

export function isAdmin(read: Statements, accountId: number): boolean {
  return row(read, "SELECT 1 AS x FROM accounts WHERE id = ? AND is_admin = 1", accountId) !==
    undefined;
}

export function listAdmins(read: Statements): string[] {
  return rows(read, "SELECT email FROM accounts WHERE is_admin = 1 ORDER BY email")
    .map((r) => r.email as string);
}

/** Newest first, `limit` (at most 10,000) entries with ids below `before`. */
export function listAudit(
  read: Statements,
  opts: { limit: number; before?: number },
): AuditEntry[] {
  const limit = Math.max(0, Math.min(10_000, Math.floor(opts.limit)));
  const before = opts.before ?? Number.MAX_SAFE_INTEGER;
  return rows(
    read,
    `SELECT ${AUDIT_COLUMNS} FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?`,
    before,
    limit,
  ).map(toAuditEntry);
}

export function hasDomain(read: Statements, name: string): boolean {
  let normalized: string;
  try {
    normalized = normalizeDomain(name);
  } catch {
    return false; // not a domain name, so not one of ours
  }
  return row(read, "SELECT 1 AS x FROM domains WHERE name = ?", normalized) !== undefined;
}

export function getAccount(read: Statements, email: string): Account | null {
  let normalized: string;
  try {
    normalized = normalizeEmail(email).email;
  } catch {
    return null; // not an address, so no such account
  }
  const r = row(read, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = ?`, normalized);
  return r ? toAccount(r) : null;
}

export function getAlias(read: Statements, source: string): string[] | null {
  let normalized: string;
  try {
    normalized = normalizeAliasSource(source);
  } catch {
    return null;
  }
  const r = row(read, "SELECT targets FROM aliases WHERE source = ?", normalized);
  return r ? JSON.parse(r.targets as string) : null;
}

export function listAliases(read: Statements): Alias[] {
  return rows(read, "SELECT source, targets FROM aliases ORDER BY source").map((r) => ({
    source: r.source as string,
    targets: JSON.parse(r.targets as string),
  }));
}
