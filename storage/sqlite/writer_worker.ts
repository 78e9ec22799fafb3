/**
 * The writer worker: owns the SQLite write connection so that the fsync of each COMMIT
 * (synchronous = FULL) blocks this thread, never the main event loop.
 *
 * Protocol (main -> worker, worker -> main):
 * - `{ type: "open", path }` -> `{ type: "ready" }` | `{ type: "error", error }`
 * - `{ type: "batch", requests }` -> `{ type: "batch", replies, commits }`: the whole batch
 *   in one transaction (see batch.ts), replies only after the COMMIT.
 * - `{ type: "close" }` -> `{ type: "closed" }`, then the worker ends.
 *
 * @module
 */
import { BatchRunner, toWireError, type WireRequest } from "./batch.ts";
import { openWriteDatabase } from "./schema.ts";

/** The parts of the worker global scope used here. */
interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
// This module is the worker's own instance: its state is the one writer of that worker.
let runner: BatchRunner | null = null;

scope.onmessage = (e: MessageEvent) => {
  const msg = e.data as
    | { type: "open"; path: string; busyTimeoutMs?: number }
    | { type: "batch"; requests: WireRequest[] }
    | { type: "close" };
  switch (msg.type) {
    case "open":
      try {
        runner = new BatchRunner(openWriteDatabase(msg.path, msg.busyTimeoutMs));
        scope.postMessage({ type: "ready" });
      } catch (err) {
        scope.postMessage({ type: "error", error: toWireError(err) });
      }
      break;
    case "batch": {
      if (!runner) {
        const error = { name: "Error", message: "sqlite writer is not open" };
        const replies = msg.requests.map(() => ({ ok: false, error }));
        scope.postMessage({ type: "batch", replies, commits: 0 });
        break;
      }
      const replies = runner.run(msg.requests);
      scope.postMessage({ type: "batch", replies, commits: runner.commits });
      break;
    }
    case "close":
      try {
        runner?.db.exec("PRAGMA optimize"); // refresh planner statistics, cheap on close
        runner?.db.close();
      } finally {
        runner = null;
        scope.postMessage({ type: "closed" });
        scope.close();
      }
      break;
  }
};
