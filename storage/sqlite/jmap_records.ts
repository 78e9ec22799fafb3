/**
 * Small JMAP object sets of an account in SQLite (Identity settings, EmailSubmissions,
 * VacationResponse, PushSubscriptions): one JSON document per account and type, which the
 * JMAP layer reads and rewrites whole (protocols/http/jmap/records.ts).
 *
 * Invariants:
 * - A document belongs to one account and disappears with it (ON DELETE CASCADE).
 * - Documents are bounded by the JMAP layer (objects and change-log entries capped); the
 *   store caps their size too, so no client can grow one without limit.
 *
 * @module
 */
import { StoreError } from "../mod.ts";
import { MAX_JMAP_RECORD_BYTES } from "../limits.ts";
import type { WriteContext } from "./writes/context.ts";

/** Migration: the `jmap_records` table. */
export const JMAP_RECORDS_MIGRATION = `
  CREATE TABLE jmap_records (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (account_id, type)
  ) WITHOUT ROWID;
`;

export function putJmapRecord(
  ctx: WriteContext,
  a: { accountId: number; type: string; doc: string },
): void {
  if (!/^[a-z]{1,32}$/.test(a.type)) throw new StoreError("invalid", "bad record type");
  if (a.doc.length > MAX_JMAP_RECORD_BYTES) {
    throw new StoreError("invalid", "record document too large");
  }
  const owner = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!owner) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  ctx.sql.get(
    `INSERT INTO jmap_records (account_id, type, doc) VALUES (?, ?, ?)
     ON CONFLICT (account_id, type) DO UPDATE SET doc = excluded.doc`,
  ).run(a.accountId, a.type, a.doc);
}

/** The record writes, merged into `WRITES` (writes.ts). */
export const JMAP_RECORD_WRITES = { putJmapRecord } as const;
