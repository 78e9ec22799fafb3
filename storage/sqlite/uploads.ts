/**
 * JMAP uploads in SQLite (RFC 8620 §6.1): bytes a client sent before it refers to them.
 *
 * Invariants:
 * - An upload belongs to one account; reads always name the account, so one account can
 *   never read another's upload.
 * - The uploads of one account never take more than `maxAccountBytes` together: a write
 *   that would fails with StoreError("quota") and stores nothing.
 *
 * @module
 */
import { StoreError, type Upload } from "../mod.ts";
import type { Row } from "./rows.ts";
import type { WriteContext } from "./writes/context.ts";

/** Migration: the `uploads` table. */
export const UPLOADS_MIGRATION = `
  CREATE TABLE uploads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    data       BLOB NOT NULL
  );
  CREATE INDEX uploads_account ON uploads(account_id, id);
`;

export { toUpload, UPLOAD_COLUMNS } from "../rows.ts";

export function storeUpload(
  ctx: WriteContext,
  a: { accountId: number; data: Uint8Array; type: string; maxAccountBytes: number },
): Upload {
  const owner = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!owner) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  const used = (ctx.sql.get("SELECT coalesce(sum(size), 0) AS n FROM uploads WHERE account_id = ?")
    .get(a.accountId) as Row).n as number;
  if (used + a.data.byteLength > a.maxAccountBytes) {
    throw new StoreError("quota", "the account's uploads are over their limit");
  }
  const createdAt = ctx.now();
  const r = ctx.sql.get(
    "INSERT INTO uploads (account_id, type, size, created_at, data) VALUES (?, ?, ?, ?, ?)",
  ).run(a.accountId, a.type, a.data.byteLength, createdAt, a.data);
  return {
    id: Number(r.lastInsertRowid),
    accountId: a.accountId,
    type: a.type,
    size: a.data.byteLength,
    createdAt,
  };
}

/** Drops uploads created before `before` (RFC 8620 §6.1: unreferenced uploads may expire). */
export function expireUploads(ctx: WriteContext, a: { before: number }): number {
  return Number(ctx.sql.get("DELETE FROM uploads WHERE created_at < ?").run(a.before).changes);
}

/** The upload writes, merged into `WRITES` (writes.ts). */
export const UPLOAD_WRITES = { storeUpload, expireUploads } as const;
