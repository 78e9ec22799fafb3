/**
 * Writes on JMAP uploads (RFC 8620 §6.1; the `uploads` table, migration 3 in ../schema.ts):
 * bytes a client sent before it refers to them.
 *
 * Invariants (as on SQLite, storage/sqlite/uploads.ts):
 * - An upload belongs to one account; reads always name the account, so one account can
 *   never read another's upload.
 * - The uploads of one account never take more than `maxAccountBytes` together: a write
 *   that would fails with StoreError("quota") and stores nothing. The account's row is locked
 *   before the sum, so two concurrent uploads (from any node) cannot both slip under it.
 *
 * @module
 */
import { StoreError, type Upload } from "../../mod.ts";
import { toUpload, UPLOAD_COLUMNS } from "../rows.ts";
import { lockAccounts, q1, type WriteContext } from "./context.ts";

export async function storeUpload(
  ctx: WriteContext,
  a: { accountId: number; data: Uint8Array; type: string; maxAccountBytes: number },
): Promise<Upload> {
  // PostgreSQL text holds no NUL: refused, not silently changed.
  if (a.type.includes("\u0000")) throw new StoreError("invalid", "upload type holds NUL");
  await lockAccounts(ctx, [a.accountId]); // "not_found" for a missing account
  const used = (await q1(
    ctx,
    "SELECT coalesce(sum(size), 0)::bigint AS n FROM uploads WHERE account_id = $1",
    [a.accountId],
  ))!.n as number;
  if (used + a.data.byteLength > a.maxAccountBytes) {
    throw new StoreError("quota", "the account's uploads are over their limit");
  }
  const r = await q1(
    ctx,
    `INSERT INTO uploads (account_id, type, size, created_at, data) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${UPLOAD_COLUMNS}`,
    [a.accountId, a.type, a.data.byteLength, ctx.now(), a.data],
  );
  return toUpload(r!);
}

/** Drops uploads created before `before` (RFC 8620 §6.1: unreferenced uploads may expire). */
export async function expireUploads(ctx: WriteContext, a: { before: number }): Promise<number> {
  const r = await q1(
    ctx,
    "WITH gone AS (DELETE FROM uploads WHERE created_at < $1 RETURNING 1) SELECT count(*) AS n FROM gone",
    [Math.ceil(a.before)], // created_at is whole milliseconds: < x.5 is < ceil(x.5)
  );
  return r!.n as number;
}
