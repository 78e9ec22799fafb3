/**
 * Admin reads of the PostgreSQL store: the admin role (`accounts.is_admin`) and the audit
 * log (writes/admin.ts). Each is one statement on the pool.
 *
 * @module
 */
import type { AuditEntry } from "../../mod.ts";
import { AUDIT_COLUMNS, type Read, toAuditEntry } from "../rows.ts";

export async function isAdmin(read: Read, accountId: number): Promise<boolean> {
  return (await read("SELECT 1 AS x FROM accounts WHERE id = $1 AND is_admin", [accountId]))
    .length > 0;
}

export async function listAdmins(read: Read): Promise<string[]> {
  return (await read("SELECT email FROM accounts WHERE is_admin ORDER BY email", [])).map((r) =>
    r.email as string
  );
}

/** Newest first, at most `limit` (capped at 10,000), ids below `before` when given. */
export async function listAudit(
  read: Read,
  opts: { limit: number; before?: number },
): Promise<AuditEntry[]> {
  const limit = Math.max(0, Math.min(10_000, Math.floor(opts.limit)));
  const before = opts.before ?? Number.MAX_SAFE_INTEGER;
  return (await read(
    `SELECT ${AUDIT_COLUMNS} FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2`,
    [Math.ceil(before), limit],
  )).map(toAuditEntry);
}
