/**
 * The main-thread side of the writer: queues write requests and sends them to the backend
 * in batches, one batch in flight at a time. Requests that arrive while a batch commits
 * form the next batch: that is the group commit, and it needs no timer — the busier the
 * writer, the larger the batches.
 *
 * Two backends run the same batch code (`batch.ts`) over the same write functions:
 * - `WorkerBackend`: a dedicated Worker owns the write connection (the server's default).
 * - `InlineBackend`: the batch runs synchronously on the calling thread (CLI, short uses).
 *
 * @module
 */
import type { MailboxChange } from "../mod.ts";
import { BatchRunner, fromWireError, type WireReply, type WireRequest } from "./batch.ts";
import { openWriteDatabase } from "./schema.ts";
import type { WriteArgs, WriteOp, WriteResult } from "./writes.ts";

/** Runs batches of write requests. */
export interface WriterBackend {
  /** Runs one batch in one transaction; replies in request order. */
  run(requests: WireRequest[], transfer: Transferable[]): Promise<WireReply[]>;
  /** Transactions committed so far. */
  readonly commits: number;
  /** Batches that may be handed over before the first one is answered. */
  readonly pipeline: number;
  /** True when batches cross to another thread (message bytes are then transferred). */
  readonly transfers: boolean;
  close(): Promise<void>;
}

/** Batch limits: bound the memory and latency of one transaction. */
const MAX_BATCH_REQUESTS = 512;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
/**
 * Batches the worker may hold at once. 1: requests that arrive during a commit all wait for
 * it and form the next batch (largest batches, fewest fsyncs). 2 would hide the reply
 * round trip but split the waiting requests; it measured no better on the delivery bench.
 */
const PIPELINE = 1;

interface Pending {
  request: WireRequest;
  forTransfer?: () => { args: unknown; transfer: Transferable[] };
  bytes: number;
  /** Send in a batch of its own (after its batch could not be sent as a whole). */
  solo?: boolean;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** Queues writes and feeds them to a backend in batches. */
export class Writer {
  #backend: WriterBackend;
  #onChanges: (changes: MailboxChange[]) => void;
  #pending: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #idle: Array<() => void> = [];
  /** Batches sent to the backend; with `commits`, shows how well writes are grouped. */
  batches = 0;
  /** Writes submitted so far (background work compares it to see other traffic). */
  submitted = 0;

  /** `onChanges` runs after a request's batch committed, before its promise resolves. */
  constructor(backend: WriterBackend, onChanges: (changes: MailboxChange[]) => void) {
    this.#backend = backend;
    this.#onChanges = onChanges;
  }

  /** Transactions committed by the backend. */
  get commits(): number {
    return this.#backend.commits;
  }

  /**
   * Queues one write; resolves with its result once its batch is committed.
   * `bytes`: size of the message it carries (bounds the batch). `forTransfer`: for a backend
   * on another thread, makes the arguments afresh with buffers to transfer (move, not clone)
   * — called when the batch is sent, again if it has to be sent once more.
   */
  submit<K extends WriteOp>(
    op: K,
    args: WriteArgs<K>,
    opts: {
      bytes?: number;
      forTransfer?: () => { args: WriteArgs<K>; transfer: Transferable[] };
    } = {},
  ): Promise<WriteResult<K>> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    this.submitted++;
    return new Promise((resolve, reject) => {
      this.#pending.push({
        request: { op, args },
        forTransfer: opts.forTransfer,
        bytes: opts.bytes ?? 0,
        resolve: resolve as (r: unknown) => void,
        reject,
      });
      this.#kick();
    });
  }

  /** Waits for queued writes, then closes the backend. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight > 0 || this.#pending.length > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    await this.#backend.close();
  }

  #full(): boolean {
    return this.#inFlight >= this.#backend.pipeline;
  }

  #kick(): void {
    if (this.#full() || this.#scheduled || this.#pending.length === 0) return;
    this.#scheduled = true;
    // A microtask, so that every write issued in the current tick joins the batch.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#full() || this.#pending.length === 0) return;
    let n = 0;
    let bytes = 0;
    while (
      n < this.#pending.length && n < MAX_BATCH_REQUESTS &&
      (n === 0 || (bytes + this.#pending[n].bytes <= MAX_BATCH_BYTES && !this.#pending[0].solo))
    ) {
      bytes += this.#pending[n].bytes;
      n++;
    }
    const batch = this.#pending.splice(0, n);
    this.#inFlight++;
    this.batches++;
    const transfer: Transferable[] = [];
    const requests = batch.map((p): WireRequest => {
      if (!p.forTransfer || !this.#backend.transfers) return p.request;
      const made = p.forTransfer();
      transfer.push(...made.transfer);
      return { op: p.request.op, args: made.args };
    });
    let replies: Promise<WireReply[]>;
    try {
      replies = this.#backend.run(requests, transfer);
    } catch (e) {
      if (batch.length > 1) {
        // One request could not be sent (e.g. an uncloneable value in queue meta): nothing
        // was sent, so send them one by one and let only that one fail. (Deno detaches the
        // transfer list even when cloning fails; forTransfer makes fresh copies.)
        this.#inFlight--;
        this.batches--;
        this.#pending.unshift(...batch.map((p) => ({ ...p, solo: true })));
        this.#flush();
        return;
      }
      replies = Promise.reject(e);
    }
    replies.then(
      (replies) => {
        batch.forEach((p, i) => {
          const reply = replies[i];
          if (reply.ok) {
            if (reply.changes.length > 0) {
              try {
                this.#onChanges(reply.changes);
              } catch (e) {
                // A listener's bug must not turn a committed write into a failure.
                console.error("storage: change listener failed:", e);
              }
            }
            p.resolve(reply.result);
          } else {
            p.reject(fromWireError(reply.error));
          }
        });
      },
      (e) => {
        const error = e instanceof Error ? e : new Error(String(e));
        for (const p of batch) p.reject(error);
      },
    ).finally(() => {
      this.#inFlight--;
      if (this.#pending.length > 0) this.#flush();
      else if (this.#inFlight === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
    });
  }
}

/** Runs batches synchronously on this thread (blocks it for each commit's fsync). */
export class InlineBackend implements WriterBackend {
  #runner: BatchRunner;
  readonly pipeline = 1;
  readonly transfers = false;

  constructor(path: string, busyTimeoutMs?: number) {
    this.#runner = new BatchRunner(openWriteDatabase(path, busyTimeoutMs));
  }

  get commits(): number {
    return this.#runner.commits;
  }

  run(requests: WireRequest[]): Promise<WireReply[]> {
    return Promise.resolve(this.#runner.run(requests));
  }

  close(): Promise<void> {
    this.#runner.db.exec("PRAGMA optimize"); // refresh planner statistics, cheap on close
    this.#runner.db.close();
    return Promise.resolve();
  }
}

type FromWorker =
  | { type: "ready" }
  | { type: "error"; error: { name: string; message: string } }
  | { type: "batch"; replies: WireReply[]; commits: number }
  | { type: "closed" };

/** Runs batches in the writer worker (`writer_worker.ts`). */
export class WorkerBackend implements WriterBackend {
  readonly pipeline = PIPELINE;
  readonly transfers = true;
  #worker: Worker;
  #commits = 0;
  #waiting: Array<{ resolve(r: WireReply[]): void; reject(e: Error): void }> = [];
  #onClosed: (() => void) | null = null;
  #failed: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the worker and opens (and migrates) the database in it. */
  static open(path: string, busyTimeoutMs?: number): Promise<WorkerBackend> {
    const worker = new Worker(new URL("./writer_worker.ts", import.meta.url), {
      type: "module",
      name: "denomail-sqlite-writer",
    });
    const backend = new WorkerBackend(worker);
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const msg = e.data;
        if (msg.type === "ready") {
          worker.onmessage = (e: MessageEvent<FromWorker>) => backend.#onMessage(e.data);
          resolve(backend);
        } else if (msg.type === "error") {
          worker.terminate();
          reject(fromWireError(msg.error));
        }
      };
      worker.onerror = (e: ErrorEvent) => {
        // Handled here: an uncaught worker error must not take the whole server down.
        e.preventDefault();
        const error = new Error(`sqlite writer worker failed: ${e.message}`);
        if (!backend.#failed) backend.#fail(error);
        reject(error);
      };
      worker.postMessage({ type: "open", path, busyTimeoutMs });
    });
  }

  get commits(): number {
    return this.#commits;
  }

  /** Throws synchronously when the batch cannot be cloned (then nothing was sent). */
  run(requests: WireRequest[], transfer: Transferable[]): Promise<WireReply[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    this.#worker.postMessage({ type: "batch", requests }, transfer);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (this.#failed) {
      this.#worker.terminate();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#onClosed = () => {
        this.#worker.terminate();
        resolve();
      };
      this.#worker.postMessage({ type: "close" });
    });
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type === "batch") {
      this.#commits = msg.commits;
      this.#waiting.shift()?.resolve(msg.replies);
    } else if (msg.type === "closed") {
      this.#onClosed?.();
    }
  }

  #fail(error: Error): void {
    this.#failed = error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
    this.#onClosed?.();
  }
}
