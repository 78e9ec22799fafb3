/**
 * The full-text index's background loop (fts.ts `indexPending`) of the SQLite store.
 *
 * Steps run one at a time, each a short write (`INDEX_STEP`), starting once the writer has
 * sent no batch for `INDEX_IDLE_MS`, then back to back while no other write comes (a pause
 * after every step left the writer idle 4/5 of the time: 136 messages/s). Any other write
 * sends it back to waiting — indexing yields to deliveries and flag changes, and under
 * sustained load simply waits (pending mail stays a search candidate meanwhile).
 *
 * @module
 */

/**
 * One background indexing step: short, so a write arriving meanwhile is not held long, but
 * long enough that its commit (an fsync, and an FTS segment) is shared by many messages.
 */
export const INDEX_STEP = { max: 1000, budgetMs: 15 };
/** The writer must have been quiet this long before indexing starts or resumes. */
const INDEX_IDLE_MS = 20;

/** What the loop needs of the store. */
export interface IndexHost {
  closed(): boolean;
  /** Batches the writer has sent, and requests submitted to it, so far. */
  batches(): number;
  submitted(): number;
  /** Runs one step; resolves to how many blobs are left. */
  step(): Promise<number>;
}

export class Indexer {
  /** The running loop, if any. */
  running: Promise<void> | null = null;
  #again = false;

  constructor(private readonly host: IndexHost) {}

  /** Starts the loop, or asks the running one for another round. */
  schedule(): void {
    const host = this.host;
    if (host.closed()) return;
    if (this.running) {
      this.#again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.#again = false;
        let more = true;
        let quiet = false;
        while (more && !host.closed()) {
          if (!quiet) await this.#writerIdle();
          if (host.closed()) break;
          const before = host.submitted();
          more = await host.step() > 0;
          quiet = host.submitted() === before + 1; // only this step was written
        }
      } while (this.#again && !host.closed());
    })().catch((e) => {
      if (!host.closed()) console.error("storage: full-text indexing failed:", e);
    }).finally(() => {
      this.running = null;
    });
  }

  /** Resolves once the writer has sent no batch for `INDEX_IDLE_MS` (or the store closes). */
  async #writerIdle(): Promise<void> {
    for (;;) {
      const batches = this.host.batches();
      await new Promise((r) => setTimeout(r, INDEX_IDLE_MS));
      if (this.host.closed() || this.host.batches() === batches) return;
    }
  }
}
