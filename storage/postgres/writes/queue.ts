/**
 * Writes on the outbound queue: enqueue (stores the message blob), claim and renew (several
 * nodes), update, remove.
 *
 * Claims are leases: `claimQueue` marks due entries `lease_node`/`lease_until` in one
 * statement, skipping rows another node is claiming at that instant (`FOR UPDATE SKIP
 * LOCKED`) and rows whose lease has not run out. The runner renews the leases of what it is
 * delivering; a node killed mid-delivery stops renewing, and once `lease_until` passes
 * another node claims the entry (at-least-once: a message the destination accepted just
 * before the kill, not yet recorded, is sent again — RFC 5321 §6.1 accepts a duplicate,
 * never a loss).
 *
 * @module
 */
import { type QueueEntry, type QueueLease, StoreError } from "../../mod.ts";
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

export async function claimQueue(
  ctx: WriteContext,
  a: { now: number; limit: number; lease: QueueLease },
): Promise<QueueEntry[]> {
  const now = Math.trunc(a.now);
  const rows = await q(
    ctx,
    `UPDATE queue SET lease_node = $3, lease_until = $4
     WHERE id IN (
       SELECT id FROM queue WHERE next_attempt_at <= $1 AND lease_until <= $1
       ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING ${QUEUE_COLUMNS}`,
    [now, Math.max(0, Math.trunc(a.limit)), a.lease.node, now + Math.trunc(a.lease.ms)],
  );
  return rows.map(toQueueEntry).sort((x, y) => x.nextAttemptAt - y.nextAttemptAt || x.id - y.id);
}

export async function renewQueueLeases(
  ctx: WriteContext,
  a: { ids: number[]; now: number; lease: QueueLease },
): Promise<void> {
  if (a.ids.length === 0) return;
  await q(
    ctx,
    `UPDATE queue SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_node = $3`,
    [Math.trunc(a.now + a.lease.ms), a.ids, a.lease.node] as Param[],
  );
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
  if (p.nextAttemptAt !== undefined) {
    // A new schedule ends any claim: the entry is due to every node at that time.
    set("next_attempt_at", Math.trunc(p.nextAttemptAt));
    sets.push("lease_node = NULL", "lease_until = 0");
  }
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
