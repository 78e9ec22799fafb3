/**
 * Delivery micro-benchmark for the SQLite store, for `bench/` to call.
 *
 * @module
 */
import { join } from "node:path";
import { openSqliteStore } from "../../storage/sqlite/store.ts";

/** What to measure. */
export interface BenchDeliverOptions {
  /** Messages to deliver (default 2000). */
  messages?: number;
  /** Callers delivering at the same time (default 20). */
  concurrency?: number;
  /** Octets per message (default 10 KiB). */
  size?: number;
  /** Use the inline writer instead of the writer worker. */
  inlineWrites?: boolean;
  /** Folder for the database (default: a temp dir, removed afterwards). */
  dir?: string;
}

/** What was measured. */
export interface BenchDeliverResult {
  messages: number;
  concurrency: number;
  size: number;
  seconds: number;
  msgsPerSec: number;
  /** Transactions committed: messages / commits is the average batch. */
  commits: number;
}

/**
 * Delivers `messages` messages of `size` octets to one INBOX from `concurrency` callers,
 * each awaiting its own deliver before the next (like SMTP sessions waiting to say 250).
 */
export async function benchDeliver(opts: BenchDeliverOptions = {}): Promise<BenchDeliverResult> {
  const messages = opts.messages ?? 2000;
  const concurrency = Math.max(1, opts.concurrency ?? 20);
  const size = opts.size ?? 10 * 1024;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "denomail-bench-" });
  const store = await openSqliteStore(join(dir, "bench.db"), {
    inlineWrites: opts.inlineWrites,
  });
  try {
    const account = await store.createAccount(`bench${Date.now()}@bench.test`, "x");
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i++) body[i] = i % 78 === 77 ? 10 : 32 + (i % 90);
    const commitsBefore = store.commitCount;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < messages) {
          next++;
          await store.deliver(body, [{ accountId: account.id, mailbox: "INBOX" }]);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return {
      messages,
      concurrency,
      size,
      seconds,
      msgsPerSec: messages / seconds,
      commits: store.commitCount - commitsBefore,
    };
  } finally {
    await store.close();
    if (!opts.dir) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  for (const concurrency of [1, 20, 100]) {
    for (const inlineWrites of [false, true]) {
      const r = await benchDeliver({ concurrency, inlineWrites });
      console.log(
        `${inlineWrites ? "inline" : "worker"} c=${concurrency}: ${
          r.msgsPerSec.toFixed(0)
        } msg/s, ` +
          `${r.commits} commits for ${r.messages} messages`,
      );
    }
  }
}
