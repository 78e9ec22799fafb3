/**
 * The search text of stored messages is made after the delivery, not in it (text.ts): a
 * delivery only notes its blob in `search_pending` (same statement as the blob), and a
 * background indexer per store instance — per node — turns pending blobs into `blob_text`
 * rows (and so their pg_trgm index entries), in batches, outside every delivery's
 * transaction and locks. The MIME parse and the trigram index maintenance, the largest part
 * of a delivery's CPU, then cost nothing on the way to the 250.
 *
 * Invariants:
 * - SEARCH never depends on the indexer: a message whose blob has no `blob_text` row yet is
 *   always a candidate (text.ts `candidatesSql`), and the IMAP evaluator confirms each
 *   candidate on the message itself, so answers equal a scan before, during and after
 *   indexing.
 * - Several nodes share the work without doing it twice: a batch claims its pending rows
 *   with `FOR UPDATE SKIP LOCKED` and deletes them in the transaction that inserts the
 *   texts; a node that dies mid-batch leaves its rows pending (its transaction rolls back).
 * - A blob removed before it was indexed leaves its pending row behind; the indexer drops it.
 * - The indexer yields to deliveries: it runs once no delivery has reached this instance for
 *   IDLE_MS, or when this instance's backlog reaches MAX_BACKLOG (so it never falls behind
 *   without bound under a load that never pauses), and every POLL_MS for other nodes' rows.
 *
 * @module
 */
import { type Db, type Row, toBytes } from "./rows.ts";
import { bodies } from "./blob_store.ts";
import { concat } from "../blobs.ts";
import { searchableText } from "./text.ts";

/** Migration: the pending blobs. No foreign key: the indexer tolerates a removed blob. */
export const SEARCH_PENDING_MIGRATION = `
  CREATE TABLE search_pending (
    blob_id bigint PRIMARY KEY
  );
`;

/** Quiet time after the last delivery before indexing starts. */
const IDLE_MS = 200;
/** Deliveries not yet indexed after which the indexer runs even under load. */
const MAX_BACKLOG = 5000;
/** How often an idle instance looks for pending rows (other nodes', a dead node's). */
const POLL_MS = 5000;
/** Blobs per indexing transaction. */
const BATCH = 64;

/**
 * Indexes one batch of pending blobs; returns how many pending rows it settled (0: none
 * left that another instance has not claimed).
 */
export async function indexBatch(db: Db, limit = BATCH): Promise<number> {
  return await db.begin(async (tx) => {
    const claimed = (await tx.unsafe(
      `SELECT blob_id FROM search_pending ORDER BY blob_id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    ) as Row[]).map((r) => r.blob_id as number);
    if (claimed.length === 0) return 0;
    // KEY SHARE: a blob cannot be removed before its text row is in.
    // The whole message: a shared body (../blob_store.ts) comes with its row.
    const rows = await tx.unsafe(
      `SELECT b.id AS blob_id, b.data, b.body_digest, ${bodies.joined} AS body
       FROM blobs b WHERE b.id = ANY($1::bigint[]) FOR KEY SHARE OF b`,
      [claimed] as never[],
    ) as Row[];
    const ids: number[] = [];
    const headers: string[] = [];
    const texts: string[] = [];
    const partial: string[] = []; // 't'/'f': the driver sends no boolean[]
    for (const r of rows) {
      const head = toBytes(r.data as Uint8Array);
      // A body gone missing is verify's to report; index what there is.
      const body = r.body_digest === null || r.body === null ? null : toBytes(r.body as Uint8Array);
      const t = searchableText(body ? concat(head, body) : head);
      ids.push(r.blob_id as number);
      headers.push(t.header);
      texts.push(t.body);
      partial.push(t.partial ? "t" : "f");
    }
    if (ids.length > 0) {
      await tx.unsafe(
        `INSERT INTO blob_text (blob_id, header, body, partial)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]::boolean[])
         ON CONFLICT (blob_id) DO NOTHING`,
        [ids, headers, texts, partial] as never[],
      );
    }
    // Blobs removed before they were indexed go too.
    await tx.unsafe("DELETE FROM search_pending WHERE blob_id = ANY($1::bigint[])", [
      claimed,
    ] as never[]);
    return claimed.length;
  });
}

/** The background indexer of one store instance (see the module doc). */
export class SearchIndexer {
  #db: Db;
  #backlog = 0;
  #lastDelivery = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #onError: (e: unknown) => void;

  /** `background`: index by itself (else only on `drain`). */
  constructor(db: Db, onError: (e: unknown) => void, background = true) {
    this.#db = db;
    this.#onError = onError;
    if (background) this.#schedule(POLL_MS);
  }

  /** `n` messages were stored by this instance (each left a pending row). */
  stored(n: number): void {
    this.#backlog += n;
    this.#lastDelivery = performance.now();
    if (this.#backlog >= MAX_BACKLOG) this.#start();
    else this.#schedule(IDLE_MS);
  }

  /** Indexes every pending row not claimed by another instance; resolves when done. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
    while (!this.#closed && await indexBatch(this.#db) > 0) { /* next batch */ }
  }

  /** Stops: no new batch starts; resolves once the running one has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#closed || this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), ms);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #tick(): void {
    const quiet = performance.now() - this.#lastDelivery;
    if (quiet < IDLE_MS && this.#backlog < MAX_BACKLOG) return this.#schedule(IDLE_MS - quiet);
    this.#start();
  }

  #start(): void {
    if (this.#closed || this.#running) return;
    clearTimeout(this.#timer);
    this.#running = this.#run().then((more) => {
      this.#running = undefined;
      this.#schedule(more ? IDLE_MS : POLL_MS);
    });
  }

  /** Indexes until done or deliveries resume; true: work is left (soon again). */
  async #run(): Promise<boolean> {
    try {
      for (;;) {
        if (this.#closed) return false;
        // Deliveries again: pause unless the backlog is too large.
        const quiet = performance.now() - this.#lastDelivery;
        if (quiet < IDLE_MS && this.#backlog < MAX_BACKLOG) return true;
        const n = await indexBatch(this.#db);
        this.#backlog = Math.max(0, this.#backlog - n);
        if (n === 0) {
          this.#backlog = 0; // the rest is claimed by others or gone
          return false;
        }
      }
    } catch (e) {
      if (!this.#closed) this.#onError(e);
      return false; // the database is away: try again at the next poll (one warning each)
    }
  }
}
