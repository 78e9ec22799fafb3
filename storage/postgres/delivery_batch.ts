/**
 * Group commit for plain deliveries (one target; writes/deliver_one.ts): deliveries that
 * arrive while earlier ones are still committing share ONE transaction — one statement,
 * `denomail_deliver_batch_blobs` (deliver_sql.ts), sent outside any explicit transaction, so
 * PostgreSQL commits it before it answers: one round trip a batch. It stores the blobs (the
 * search text is left to the indexer), runs `denomail_deliver_one` for each delivery (by
 * account, arrival order within one), removes the blobs of refused deliveries and sends one
 * change notification for the batch.
 * Every delivery into a mailbox waits for that mailbox's row lock until the commit; the
 * batch holds it for its placements and the WAL flush only, never across a round trip to
 * this process. (With BEGIN and COMMIT of the driver's `begin` a batch took four round
 * trips; a COMMIT pipelined on a reserved connection left queries waiting for good when
 * the database went away.)
 *
 * Invariants:
 * - A delivery's promise resolves only after the statement that holds it returned, which
 *   PostgreSQL answers after its commit; nothing is acknowledged that is not durable.
 * - Each delivery keeps its own answer: a refusal (quota, no such account) is that
 *   delivery's error and its blob is deleted in the batch (it has no reference); the others
 *   commit. Within a batch the quota check sees the earlier deliveries of the batch.
 * - Any other failure of a batch that surely did not commit (PostgreSQL's error for the
 *   statement: it rolled back) is not taken to be every delivery's: each is then run again
 *   in a transaction of its own (the store's write runner, with its retries) and gets its
 *   own answer. A lost connection or a server going away (FATAL): the outcome is unknown,
 *   every delivery of the batch gets the error (a 4xx; SMTP clients try again).
 * - At most MAX_IN_FLIGHT batch transactions at once, and no two with an account in
 *   common: while they commit, arrivals queue and form the next batch (bounded in count and
 *   octets). Deliveries into one mailbox thus go one batch at a time, each taking all that
 *   arrived meanwhile (with several batches into one mailbox in flight, the later ones only
 *   waited for its lock, smaller: more transactions, more CPU a message, fewer messages).
 *
 * @module
 */
import type { MailboxChange, Placed } from "../mod.ts";
import postgres from "postgres";
import type { Db } from "./rows.ts";
import type { WriteContext } from "./writes/context.ts";
import {
  type BatchRow,
  batchRow,
  deliverBatchStatement,
  type OneDelivery,
} from "./writes/deliver_one.ts";
import { deliver, type DeliverArgs, plainDelivery } from "./writes/messages.ts";
import { KnownBodies } from "./known_bodies.ts";

/**
 * Batch transactions at once (of the pool's 10 connections), into different accounts (see
 * `#next`). Into one mailbox, one batch at a time measured best (`bench cluster`: less CPU
 * a message in denomail and PostgreSQL, more messages/s than 2 or 4 batches that queue for
 * the same lock); into 20 mailboxes, 2 cost less CPU a message than 4 (fewer, larger
 * batches) at the same rate on the 2-core bench machine.
 */
const MAX_IN_FLIGHT = 2;
/** Deliveries per batch. */
const MAX_COUNT = 32;
/** Octets per batch (a batch always takes at least one delivery). */
const MAX_BYTES = 8 * 1024 * 1024;

interface Pending {
  d: OneDelivery;
  row: BatchRow;
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
 * The batch (see the module doc): every delivery's placement or refusal (an Error). Throws
 * RolledBack when nothing committed — PostgreSQL refused the statement, so its implicit
 * transaction rolled back — and any other error when the outcome is unknown (the connection
 * was lost, or the server went away, while the statement was under way: it may have
 * committed).
 */
async function deliverBatch(
  host: BatchHost,
  batch: OneDelivery[],
  rows: BatchRow[],
): Promise<Array<Placed | Error>> {
  const changes: MailboxChange[] = [];
  let out: Array<Placed | Error>;
  try {
    out = await deliverBatchStatement(host.db, batch, host.origin(), changes, rows);
  } catch (e) {
    // FATAL or PANIC (the server shutting down, crashing): the COMMIT may have gone through.
    const fatal = e instanceof postgres.PostgresError &&
      (e.severity === "FATAL" || e.severity === "PANIC");
    if (e instanceof postgres.PostgresError && !fatal) throw new RolledBack(e);
    throw e;
  }
  host.publish(changes);
  return out;
}

/** Queues plain deliveries and commits them in batches (see the module doc). */
export class DeliveryBatcher {
  #pending: Pending[] = [];
  #inFlight = 0;
  /** The accounts of the batches in flight. */
  #busy = new Set<number>();
  #host: BatchHost;
  #idle: Array<() => void> = [];
  /** Shared bodies stored by this node's committed batches (sent by digest alone). */
  #known = new KnownBodies();
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
        this.#pending.push({ d, row: batchRow(d, this.#known), resolve, reject });
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
      const batch = this.#next();
      if (batch.length === 0) break; // every pending account is in a batch in flight
      const accounts = new Set(batch.map((p) => p.d.target.accountId));
      for (const a of accounts) this.#busy.add(a);
      this.#inFlight++;
      this.#commit(batch).finally(() => {
        for (const a of accounts) this.#busy.delete(a);
        this.#inFlight--;
        this.#kick();
      });
    }
    if (this.#inFlight === 0) { for (const f of this.#idle.splice(0)) f(); }
  }

  /**
   * Takes the next batch from the pending deliveries: in arrival order, those whose account
   * no batch in flight holds (bounded in count and octets; at least one). A second batch
   * into the same accounts would only wait for the first one's locks, and it leaves the
   * arrivals of that wait to a later batch: they wait here instead and join one batch.
   */
  #next(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let bytes = 0;
    let full = false;
    for (const p of this.#pending) {
      const size = p.d.message.byteLength;
      full ||= batch.length >= MAX_COUNT || (batch.length > 0 && bytes + size > MAX_BYTES);
      if (full || this.#busy.has(p.d.target.accountId)) rest.push(p);
      else {
        batch.push(p);
        bytes += size;
      }
    }
    this.#pending = rest;
    // By account (stable: arrival order within one), the order writers lock accounts in
    // (writes/context.ts), so two batches never wait for each other's accounts crosswise.
    return batch.sort((x, y) => x.d.target.accountId - y.d.target.accountId);
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
      results = await deliverBatch(this.#host, batch.map((p) => p.d), batch.map((p) => p.row));
    } catch (e) {
      // Committed or not is unknown: no delivery may be tried again (a 4xx; the client
      // retries).
      if (!(e instanceof RolledBack)) return batch.forEach((p) => p.reject(e));
      // A body named by digest may be gone (SQLSTATE DM001, deliver_known_bodies_sql.ts):
      // the deliveries alone send their bytes, and later batches too until stored again.
      this.#known.clear();
      // Whose failure it was is unknown: each gets its own answer, in a transaction of its
      // own (retried on deadlocks and serialisation failures).
      await Promise.all(batch.map((p) => this.#alone(p.d).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) return p.reject(r);
      if (p.row.bodyDigest !== null) this.#known.add(p.row.bodyDigest);
      p.resolve(r);
    });
  }
}
