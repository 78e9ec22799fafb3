/**
 * Group commit for plain deliveries (one target; writes/deliver_one.ts): deliveries that
 * arrive while earlier ones are still committing share ONE transaction — the blobs inserted
 * first (pipelined, before any lock), then one `denomail_deliver_one` call each (pipelined,
 * in arrival order), one COMMIT. Every delivery into a mailbox waits for that mailbox's row
 * lock until COMMIT, so one at a time they are bound by the commit's WAL flush; a batch
 * pays it once for all.
 *
 * Invariants:
 * - A delivery's promise resolves only after the COMMIT that holds it (the store's write
 *   runner, `run`); nothing is acknowledged that is not durable.
 * - Each delivery keeps its own answer: a refusal (quota, no such account) is that
 *   delivery's error and its blob is deleted in the batch; the others commit. Within a
 *   batch the quota check sees the earlier deliveries of the batch (same transaction).
 * - Any other failure of a batch of several (a database error) is not taken to be every
 *   delivery's: each is then run again in a transaction of its own and gets its own answer.
 * - At most MAX_IN_FLIGHT batch transactions at once: while they commit, arrivals queue
 *   and form the next batch (bounded in count and octets).
 *
 * @module
 */
import { type Placed, StoreError } from "../mod.ts";
import { q, type WriteContext } from "./writes/context.ts";
import { storeBlob } from "./writes/blobs.ts";
import { type OneDelivery, placeOne } from "./writes/deliver_one.ts";
import { deliver, type DeliverArgs, plainDelivery } from "./writes/messages.ts";

/**
 * Batch transactions at once (of the pool's 10 connections): some insert their blobs while
 * one holds the mailbox lock; 4 measured best on `bench cluster` (2 was slower, 8 no faster).
 */
const MAX_IN_FLIGHT = 4;
/** Deliveries per batch. */
const MAX_COUNT = 32;
/** Octets per batch (a batch always takes at least one delivery). */
const MAX_BYTES = 8 * 1024 * 1024;

interface Pending {
  d: OneDelivery;
  resolve: (p: Placed) => void;
  reject: (e: unknown) => void;
}

/** Runs `fn(ctx, args)` in a transaction of its own (the store's write runner). */
export type WriteRunner = <A, R>(
  fn: (ctx: WriteContext, a: A) => Promise<R>,
  args: A,
) => Promise<R>;

/** The batch transaction: every delivery's placement or refusal. */
async function deliverBatch(
  ctx: WriteContext,
  batch: OneDelivery[],
): Promise<Array<Placed | StoreError>> {
  const blobIds = await Promise.all(batch.map((d) => storeBlob(ctx, d.message, true)));
  const origin = ctx.origin ?? null;
  const results = await Promise.all(batch.map((d, i) => placeOne(ctx, d, blobIds[i], origin)));
  if (origin !== null) ctx.notified = ctx.changes.length; // each call sent its own
  const refused = blobIds.filter((_, i) => results[i] instanceof StoreError);
  if (refused.length > 0) await q(ctx, "DELETE FROM blobs WHERE id = ANY($1::bigint[])", [refused]);
  return results;
}

/** Queues plain deliveries and commits them in batches (see the module doc). */
export class DeliveryBatcher {
  #pending: Pending[] = [];
  #inFlight = 0;
  #run: WriteRunner;
  #idle: Array<() => void> = [];
  #closed = false;

  constructor(run: WriteRunner) {
    this.#run = run;
  }

  /**
   * `Store.deliver`: a plain delivery (one target, no mailbox to create) joins a batch; any
   * other runs alone (writes/messages.ts `deliver`).
   */
  async deliver(a: DeliverArgs): Promise<Placed[]> {
    if (this.#closed) throw new Error("store is closed");
    const d = plainDelivery(Date.now, a); // throws on invalid arguments
    if (!d) return this.#run(deliver, a);
    return [
      await new Promise<Placed>((resolve, reject) => {
        this.#pending.push({ d, resolve, reject });
        this.#kick();
      }),
    ];
  }

  /** One delivery in a transaction of its own (after a failed batch). */
  async #alone(d: OneDelivery): Promise<Placed> {
    const a = { message: d.message, targets: [d.target], internalDate: d.internalDate };
    return (await this.#run(deliver, a))[0];
  }

  #kick(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#pending.length > 0) {
      let n = 0;
      let bytes = 0;
      while (
        n < this.#pending.length && n < MAX_COUNT &&
        (n === 0 || bytes + this.#pending[n].d.message.byteLength <= MAX_BYTES)
      ) bytes += this.#pending[n++].d.message.byteLength;
      // By account (stable: arrival order within one), the order writers lock accounts in
      // (writes/context.ts), so two batches never wait for each other's accounts crosswise.
      const batch = this.#pending.splice(0, n)
        .sort((x, y) => x.d.target.accountId - y.d.target.accountId);
      this.#inFlight++;
      this.#commit(batch).finally(() => {
        this.#inFlight--;
        this.#kick();
      });
    }
    if (this.#inFlight === 0) { for (const f of this.#idle.splice(0)) f(); }
  }

  /**
   * Refuses new deliveries; resolves once every one handed in before has its answer (the
   * store's close: accepted deliveries still commit).
   */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0 && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #commit(batch: Pending[]): Promise<void> {
    let results: Array<Placed | StoreError>;
    try {
      results = await this.#run(deliverBatch, batch.map((p) => p.d));
    } catch (e) {
      if (batch.length === 1) return batch[0].reject(e);
      // Whose failure it was is unknown: each gets its own answer.
      await Promise.all(batch.map((p) => this.#alone(p.d).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof StoreError) p.reject(r);
      else p.resolve(r);
    });
  }
}
