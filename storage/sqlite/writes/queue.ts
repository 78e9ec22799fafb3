/**
 * Writes on the outbound queue: enqueue (stores the message blob), update, remove.
 *
 * @module
 */
import { type QueueEntry, StoreError } from "../../mod.ts";
import { QUEUE_COLUMNS, type Row, toQueueEntry } from "../rows.ts";
import { checkMessage, type WriteContext } from "./context.ts";
import { storeBlob } from "../blobs.ts";

type NewQueueEntry = Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">;

export function enqueue(
  ctx: WriteContext,
  a: { message: Uint8Array; entry: NewQueueEntry },
): QueueEntry {
  checkMessage(a.message);
  const e = a.entry;
  if (typeof e.sender !== "string" || !Array.isArray(e.recipients)) {
    throw new StoreError("invalid", "queue entry needs a sender and recipients");
  }
  if (e.recipients.length === 0) {
    throw new StoreError("invalid", "a queue entry needs at least one recipient");
  }
  const blobId = storeBlob(ctx, a.message);
  const r = ctx.sql.get(
    `INSERT INTO queue (blob_id, sender, recipients, created_at, next_attempt_at, meta)
     VALUES (?, ?, ?, ?, ?, ?) RETURNING ${QUEUE_COLUMNS}`,
  ).get(
    blobId,
    e.sender,
    JSON.stringify(e.recipients),
    ctx.now(),
    Math.trunc(e.nextAttemptAt),
    JSON.stringify(e.meta ?? {}),
  ) as Row;
  return toQueueEntry(r);
}

export function updateQueueEntry(
  ctx: WriteContext,
  a: { id: number; patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">> },
): void {
  const p = a.patch;
  const sets: string[] = [];
  const values: Array<string | number | null> = [];
  const set = (column: string, value: string | number | null) => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (p.sender !== undefined) set("sender", p.sender);
  if (p.recipients !== undefined) set("recipients", JSON.stringify(p.recipients));
  if (p.nextAttemptAt !== undefined) set("next_attempt_at", Math.trunc(p.nextAttemptAt));
  if (p.attempts !== undefined) set("attempts", p.attempts);
  if (p.lastError !== undefined) set("last_error", p.lastError);
  if (p.meta !== undefined) set("meta", JSON.stringify(p.meta));
  if (sets.length === 0) {
    if (!ctx.sql.get("SELECT 1 AS x FROM queue WHERE id = ?").get(a.id)) {
      throw new StoreError("not_found", `no such queue entry: ${a.id}`);
    }
    return;
  }
  // Only the columns named in the patch (a handful of shapes, so the statement cache stays small).
  const r = ctx.sql.get(`UPDATE queue SET ${sets.join(", ")} WHERE id = ?`).run(...values, a.id);
  if (r.changes === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}

export function removeQueueEntry(ctx: WriteContext, a: { id: number }): void {
  const r = ctx.sql.get("DELETE FROM queue WHERE id = ?").run(a.id);
  if (r.changes === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}
