/**
 * Writes on the admin role (`accounts.is_admin`) and the audit log (the `audit` table; both
 * in ../schema.ts).
 *
 * Invariants (as on SQLite, storage/sqlite/admin.ts):
 * - The role is a column of the account, so it goes with the account.
 * - Audit entries are only appended, never changed; ids come from an identity sequence and
 *   strictly increase, which paging ("before" an id) relies on. Fields are cut to bounded
 *   lengths so a client cannot grow one row without limit.
 * - An audit entry is always written: PostgreSQL text holds no NUL, so a NUL in a field is
 *   stored (and returned) as U+FFFD, and a cut that split a surrogate pair is made whole.
 *
 * @module
 */
import type { AuditEntry } from "../../mod.ts";
import { AUDIT_COLUMNS, toAuditEntry } from "../rows.ts";
import { account, q, q1, type WriteContext } from "./context.ts";

export async function setAdmin(
  ctx: WriteContext,
  a: { email: string; admin: boolean },
): Promise<void> {
  const acc = await account(ctx, a.email);
  await q(ctx, "UPDATE accounts SET is_admin = $1 WHERE id = $2", [a.admin === true, acc.id]);
}

/** Longest kept: actor, ip, action, target; and detail. */
const MAX_FIELD = 320;
const MAX_DETAIL = 4096;

/** A field cut to `max` and made storable (see the module doc). */
function field(value: unknown, max: number): string {
  return String(value).slice(0, max).toWellFormed().replaceAll("\u0000", "\ufffd");
}

export async function addAuditEntry(
  ctx: WriteContext,
  a: Omit<AuditEntry, "id" | "at">,
): Promise<AuditEntry> {
  const r = await q1(
    ctx,
    `INSERT INTO audit (at, actor, ip, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${AUDIT_COLUMNS}`,
    [
      ctx.now(),
      field(a.actor, MAX_FIELD),
      field(a.ip, MAX_FIELD),
      field(a.action, MAX_FIELD),
      field(a.target, MAX_FIELD),
      field(a.detail, MAX_DETAIL),
    ],
  );
  return toAuditEntry(r!);
}
