/**
 * Outbound queue operations (CLI `queue`; API `/api/admin/queue`). A retry only moves the
 * next attempt to now: the running server's queue runner picks it up at its next poll.
 *
 * @module
 */
import { type QueueEntry, StoreError } from "../../storage/mod.ts";
import { type AdminContext, audit } from "./context.ts";
import { parseQueueId } from "./validate.ts";

export function listQueue(ctx: AdminContext): Promise<QueueEntry[]> {
  return ctx.store.listQueue();
}

export async function retryEntry(ctx: AdminContext, raw: string | undefined): Promise<number> {
  const id = parseQueueId(raw);
  await ctx.store.updateQueueEntry(id, { nextAttemptAt: Date.now() });
  await audit(ctx, "queue.retry", String(id));
  return id;
}

export async function dropEntry(ctx: AdminContext, raw: string | undefined): Promise<number> {
  const id = parseQueueId(raw);
  await ctx.store.removeQueueEntry(id);
  await audit(ctx, "queue.drop", String(id));
  return id;
}

/** Makes every entry due now; returns how many (entries gone meanwhile are skipped). */
export async function flushQueue(ctx: AdminContext): Promise<number> {
  const now = Date.now();
  let n = 0;
  for (const e of await ctx.store.listQueue()) {
    try {
      await ctx.store.updateQueueEntry(e.id, { nextAttemptAt: now });
      n++;
    } catch (err) {
      if (!(err instanceof StoreError && err.code === "not_found")) throw err;
    }
  }
  await audit(ctx, "queue.flush", "", { entries: n });
  return n;
}
