/**
 * Group commit for plain deliveries (one target; writes/deliver_one.ts): deliveries that
 * arrive while earlier ones are still committing share ONE transaction on a reserved
 * connection, in two round trips:
 * 1. BEGIN and the blobs (pipelined, before any lock);
 * 2. one `denomail_deliver_one` call each (in arrival order), the removal of the blobs of
 *    refused deliveries, one change notification for the batch (deliver_sql.ts
 *    BATCH_NOTIFY_SQL) and COMMIT — all pipelined, sent at once.
 * Every delivery into a mailbox waits for that mailbox's row lock until COMMIT, so the time
 * a batch holds it bounds the rate into one mailbox: with the COMMIT sent along with the
 * calls, that is the server's work and the WAL flush, never a round trip to this process
 * (whose event loop may be busy with SMTP sessions).
 *
 * Invariants:
 * - A delivery's promise resolves only after the COMMIT that holds it answered COMMIT;
 *   nothing is acknowledged that is not durable. A statement that fails aborts the
 *   transaction: PostgreSQL then answers the pipelined COMMIT with ROLLBACK.
 * - Each delivery keeps its own answer: a refusal (quota, no such account) is that
 *   delivery's error and its blob is deleted in the batch (it has no reference); the others
 *   commit. Within a batch the quota check sees the earlier deliveries of the batch.
 * - Any other failure of a batch (a database error, a lost connection) is not taken to be
 *   every delivery's: each is then run again in a transaction of its own (the store's write
 *   runner, with its retries) and gets its own answer.
 * - At most MAX_IN_FLIGHT batch transactions at once: while they commit, arrivals queue
 *   and form the next batch (bounded in count and octets).
 *
 * @module
 */
import type { MailboxChange, Placed, StoreError } from "../mod.ts";
import type { Db } from "./rows.ts";
import { q, type WriteContext } from "./writes/context.ts";
import { BATCH_NOTIFY_SQL } from "./deliver_sql.ts";
import { storeBlob } from "./writes/blobs.ts";
import { type OneDelivery, placeOne } from "./writes/deliver_one.ts";
import { deliver, type DeliverArgs, plainDelivery } from "./writes/messages.ts";

/**
 * Batch transactions at once (of the pool's 10 connections): one commits (holding the
 * mailbox locks, for the server's work and the WAL flush only) while the next inserts its
 * blobs; arrivals meanwhile form the batch after. 2 measured best on `bench cluster` once
 * the COMMIT was pipelined (4: smaller batches, more flushes, about 1.3x the CPU of
 * PostgreSQL per message).
 */
const MAX_IN_FLIGHT = 2;
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

/** What the batcher needs of its store. */
export interface BatchHost {
  /** The store's write runner (a delivery alone, with retries). */
  run: WriteRunner;
  /** The pool (a batch reserves one connection). */
  db: Db;
  /** This instance's NOTIFY origin (change_bus.ts). */
  origin(): string;
  /** Hands committed changes to this instance's listeners. */
  publish(changes: MailboxChange[]): void;
}

/** A batch that certainly did not commit (its deliveries may be tried again). */
class RolledBack extends Error {
  constructor(readonly why: unknown) {
    super(`postgres: delivery batch rolled back: ${(why as Error)?.message ?? why}`);
  }
}

/**
 * The batch transaction (see the module doc): every delivery's placement or refusal (an
 * Error). Throws RolledBack when nothing committed, any other error when the outcome of the
 * COMMIT is unknown (the connection was lost after it was sent).
 */
async function deliverBatch(
  host: BatchHost,
  batch: OneDelivery[],
): Promise<Array<Placed | Error>> {
  const tx = await host.db.reserve();
  const origin = host.origin();
  const ctx: WriteContext = { tx: tx as never, now: Date.now, changes: [], origin, notified: 0 };
  try {
    let blobIds: number[];
    try {
      const begun = q(ctx, "BEGIN");
      const ids = await Promise.all([begun, ...batch.map((d) => storeBlob(ctx, d.message, true))]);
      blobIds = ids.slice(1) as number[];
    } catch (e) {
      await tx.unsafe("ROLLBACK").catch(() => {});
      throw new RolledBack(e);
    }
    // Sent at once: the calls, the refused deliveries' blobs (no reference), one
    // notification for the batch, COMMIT.
    const placed = batch.map((d, i) => placeOne(ctx, d, blobIds[i], null));
    const cleanup = q(
      ctx,
      `WITH b AS (DELETE FROM blobs WHERE id = ANY($1::bigint[]) AND refs = 0 RETURNING id)
       DELETE FROM search_pending WHERE blob_id IN (SELECT id FROM b)`,
      [blobIds],
    );
    const notified = q(ctx, BATCH_NOTIFY_SQL, [origin, blobIds]);
    const commit = q(ctx, "COMMIT");
    const settled = await Promise.allSettled([...placed, cleanup, notified, commit]);
    const done = settled[settled.length - 1];
    if (done.status === "rejected") throw done.reason; // outcome unknown
    if ((done.value as unknown as { command?: string }).command !== "COMMIT") {
      const failed = settled.find((r) => r.status === "rejected") as PromiseRejectedResult;
      throw new RolledBack(failed?.reason ?? "COMMIT answered ROLLBACK");
    }
    host.publish(ctx.changes);
    return settled.slice(0, batch.length).map((r) =>
      r.status === "fulfilled" ? r.value as Placed | StoreError : r.reason as Error
    );
  } finally {
    tx.release();
  }
}

/** Queues plain deliveries and commits them in batches (see the module doc). */
export class DeliveryBatcher {
  #pending: Pending[] = [];
  #inFlight = 0;
  #host: BatchHost;
  #idle: Array<() => void> = [];
  #closed = false;

  constructor(host: BatchHost) {
    this.#host = host;
  }

  /**
   * `Store.deliver`: a plain delivery (one target, no mailbox to create) joins a batch; any
   * other runs alone (writes/messages.ts `deliver`).
   */
  async deliver(a: DeliverArgs): Promise<Placed[]> {
    if (this.#closed) throw new Error("store is closed");
    const d = plainDelivery(Date.now, a); // throws on invalid arguments
    if (!d) return this.#host.run(deliver, a);
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
    return (await this.#host.run(deliver, a))[0];
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
    let results: Array<Placed | Error>;
    try {
      results = await deliverBatch(this.#host, batch.map((p) => p.d));
    } catch (e) {
      // Committed or not is unknown: no delivery may be tried again (a 4xx; the client
      // retries).
      if (!(e instanceof RolledBack)) return batch.forEach((p) => p.reject(e));
      // Whose failure it was is unknown: each gets its own answer, in a transaction of its
      // own (retried on deadlocks and serialisation failures).
      await Promise.all(batch.map((p) => this.#alone(p.d).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
  }
}
