/**
 * Writes on the small JMAP object sets of an account (Identity settings, EmailSubmissions,
 * VacationResponse, PushSubscriptions; the `jmap_records` table in ../schema.ts): one JSON
 * document per account and type, read and rewritten whole by the JMAP layer.
 *
 * Invariants (as on SQLite, storage/sqlite/jmap_records.ts):
 * - A document belongs to one account and disappears with it (ON DELETE CASCADE).
 * - Documents are capped in size (`MAX_JMAP_RECORD_BYTES`), so no client grows one without
 *   limit. PostgreSQL text holds no NUL: a document holding one is refused ("invalid"), not
 *   silently changed (JSON text escapes NUL as \u0000, so JSON.stringify never sends one).
 *
 * @module
 */
import { StoreError } from "../../mod.ts";
import { MAX_JMAP_RECORD_BYTES } from "../../limits.ts";
import { q, q1, type WriteContext } from "./context.ts";

export async function putJmapRecord(
  ctx: WriteContext,
  a: { accountId: number; type: string; doc: string },
): Promise<void> {
  if (!/^[a-z]{1,32}$/.test(a.type)) throw new StoreError("invalid", "bad record type");
  if (a.doc.length > MAX_JMAP_RECORD_BYTES) {
    throw new StoreError("invalid", "record document too large");
  }
  if (a.doc.includes("\u0000")) throw new StoreError("invalid", "record document holds NUL");
  const owner = await q1(ctx, "SELECT 1 AS x FROM accounts WHERE id = $1", [a.accountId]);
  if (!owner) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  await q(
    ctx,
    `INSERT INTO jmap_records (account_id, type, doc) VALUES ($1, $2, $3)
     ON CONFLICT (account_id, type) DO UPDATE SET doc = excluded.doc`,
    [a.accountId, a.type, a.doc],
  );
}
