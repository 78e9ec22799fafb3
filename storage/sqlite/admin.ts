/**
 * Admin role and audit log in SQLite: the migrations, the writes and the row mapping.
 *
 * Invariants:
 * - The role is a column of the account (`is_admin`), so it goes with the account.
 * - Audit entries are only appended, never changed; ids strictly increase (AUTOINCREMENT),
 *   which is what paging ("before" an id) relies on. Fields are cut to bounded lengths so a
 *   client cannot grow one row without limit.
 *
 * @module
 */
import type { AuditEntry } from "../mod.ts";
import { account, type WriteContext } from "./writes/context.ts";

/** Migration: the admin role on accounts. */
export const ADMIN_ROLE_MIGRATION = `
  ALTER TABLE accounts ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
`;

/** Migration: the `audit` table. */
export const AUDIT_MIGRATION = `
  CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    ip     TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
  );
`;

export { AUDIT_COLUMNS, toAuditEntry } from "../rows.ts";

export function setAdmin(ctx: WriteContext, a: { email: string; admin: boolean }): void {
  const acc = account(ctx, a.email);
  ctx.sql.get("UPDATE accounts SET is_admin = ? WHERE id = ?").run(a.admin ? 1 : 0, acc.id);
}

/** Longest kept: actor, ip, action, target; and detail. */
const MAX_FIELD = 320;
const MAX_DETAIL = 4096;

export function addAuditEntry(
  ctx: WriteContext,
  a: Omit<AuditEntry, "id" | "at">,
): AuditEntry {
  const e = {
    at: ctx.now(),
    actor: String(a.actor).slice(0, MAX_FIELD),
    ip: String(a.ip).slice(0, MAX_FIELD),
    action: String(a.action).slice(0, MAX_FIELD),
    target: String(a.target).slice(0, MAX_FIELD),
    detail: String(a.detail).slice(0, MAX_DETAIL),
  };
  const r = ctx.sql.get(
    "INSERT INTO audit (at, actor, ip, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(e.at, e.actor, e.ip, e.action, e.target, e.detail);
  return { id: Number(r.lastInsertRowid), ...e };
}

/** The admin writes, merged into `WRITES` (writes.ts). */
export const ADMIN_WRITES = { setAdmin, addAuditEntry } as const;
