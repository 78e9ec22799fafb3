/**
 * Writes on the outbound queue: enqueue (stores the message blob), update, remove.
 * (Claiming entries across nodes — leases or `FOR UPDATE SKIP LOCKED` — is not built yet.)
 *
 * @module
 */
import { type QueueEntry, StoreError } from "../../mod.ts";
import { QUEUE_COLUMNS, toQueueEntry } from "../rows.ts";
import { storeBlob } from "./blobs.ts";
import { checkMessage, type Param, q, q1, type WriteContext } from "./context.ts";

type NewQueueEntry = Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">;

export async function enqueue(
  ctx: WriteContext,
  a: { message: Uint8Array; entry: NewQueueEntry },
): Promise<QueueEntry> {
  checkMessage(a.message);
  const e = a.entry;
  if (typeof e.sender !== "string" || !Array.isArray(e.recipients)) {
    throw new StoreError("invalid", "queue entry needs a sender and recipients");
  }
  if (e.recipients.length === 0) {
    throw new StoreError("invalid", "a queue entry needs at least one recipient");
  }
  const blobId = await storeBlob(ctx, a.message, false);
  const r = await q1(
    ctx,
    `INSERT INTO queue (blob_id, sender, recipients, created_at, next_attempt_at, meta)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${QUEUE_COLUMNS}`,
    [
      blobId,
      e.sender,
      JSON.stringify(e.recipients),
      ctx.now(),
      Math.trunc(e.nextAttemptAt),
      JSON.stringify(e.meta ?? {}),
    ],
  );
  return toQueueEntry(r!);
}

export async function updateQueueEntry(
  ctx: WriteContext,
  a: { id: number; patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">> },
): Promise<void> {
  const p = a.patch;
  const sets: string[] = [];
  const values: Param[] = [];
  const set = (column: string, value: Param) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (p.sender !== undefined) set("sender", p.sender);
  if (p.recipients !== undefined) set("recipients", JSON.stringify(p.recipients));
  if (p.nextAttemptAt !== undefined) set("next_attempt_at", Math.trunc(p.nextAttemptAt));
  if (p.attempts !== undefined) set("attempts", p.attempts);
  if (p.lastError !== undefined) set("last_error", p.lastError);
  if (p.meta !== undefined) set("meta", JSON.stringify(p.meta));
  if (sets.length === 0) {
    if (!(await q1(ctx, "SELECT 1 AS x FROM queue WHERE id = $1", [a.id]))) {
      throw new StoreError("not_found", `no such queue entry: ${a.id}`);
    }
    return;
  }
  values.push(a.id);
  const r = await q(
    ctx,
    `UPDATE queue SET ${sets.join(", ")} WHERE id = $${values.length} RETURNING id`,
    values,
  );
  if (r.length === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}

export async function removeQueueEntry(ctx: WriteContext, a: { id: number }): Promise<void> {
  const r = await q(ctx, "DELETE FROM queue WHERE id = $1 RETURNING id", [a.id]);
  if (r.length === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}
