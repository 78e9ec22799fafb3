/**
 * A small pool of hashing workers (hash_worker.ts) for argon2id. One hash takes tens of
 * milliseconds of CPU; run on the main thread, 100 parallel logins delayed every other
 * client's greeting by seconds. Jobs queue here (bounded) and go to the first idle worker.
 *
 * The worker file must be listed in the `compile` task's `--include` (deno.json).
 *
 * @module
 */
import { log } from "../../lib/log.ts";

/** Thrown when the queue is full: the caller answers "try again later". */
export class HashPoolBusy extends Error {
  constructor() {
    super("password check queue is full");
    this.name = "HashPoolBusy";
  }
}

type Job =
  | { op: "verify"; hash: string; password: string }
  | { op: "hash"; password: string };

interface Queued {
  job: Job;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  busy: Queued | null;
  id: number;
}

export class HashPool {
  readonly size: number;
  readonly maxQueue: number;
  #slots: Slot[] = [];
  #queue: Queued[] = [];
  #closed = false;

  constructor(opts: { size?: number; maxQueue?: number } = {}) {
    this.size = opts.size ?? 2;
    this.maxQueue = opts.maxQueue ?? 256;
  }

  /** Checks a password against an argon2id PHC string (constant time, in a worker). */
  verify(hash: string, password: string): Promise<boolean> {
    return this.#run({ op: "verify", hash, password }) as Promise<boolean>;
  }

  /** Hashes a password into an argon2id PHC string (in a worker). */
  hash(password: string): Promise<string> {
    return this.#run({ op: "hash", password }) as Promise<string>;
  }

  /** Jobs waiting for a worker (not counting the ones running). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Stops the workers; queued and running jobs fail. */
  close(): void {
    this.#closed = true;
    for (const s of this.#slots) {
      s.worker.terminate();
      s.busy?.reject(new Error("hash pool closed"));
    }
    this.#slots = [];
    for (const q of this.#queue.splice(0)) q.reject(new Error("hash pool closed"));
  }

  #run(job: Job): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("hash pool closed"));
    if (this.#queue.length >= this.maxQueue) return Promise.reject(new HashPoolBusy());
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#queue.push({ job, resolve, reject });
    this.#dispatch();
    return promise;
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.busy);
      if (!slot && this.#slots.length < this.size) slot = this.#spawn();
      if (!slot) return;
      const q = this.#queue.shift()!;
      slot.busy = q;
      slot.id++;
      slot.worker.postMessage({ id: slot.id, ...q.job });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./hash_worker.ts", import.meta.url), {
      type: "module",
      name: "denomail-hash",
    });
    const slot: Slot = { worker, busy: null, id: 0 };
    worker.onmessage = (e: MessageEvent) => {
      const msg = e.data as { id: number; ok?: boolean; hash?: string; error?: string };
      const q = slot.busy;
      if (!q || msg.id !== slot.id) return;
      slot.busy = null;
      if (msg.error !== undefined) q.reject(new Error(msg.error));
      else q.resolve(msg.ok ?? msg.hash);
      this.#dispatch();
    };
    worker.onerror = (e: ErrorEvent) => {
      // A dead worker must not take the server down: fail its job, start a fresh one later.
      e.preventDefault();
      log.error("auth", "hashing worker failed", { error: e.message });
      worker.terminate();
      this.#slots = this.#slots.filter((s) => s !== slot);
      slot.busy?.reject(new Error(`hashing worker failed: ${e.message}`));
      slot.busy = null;
      this.#dispatch();
    };
    this.#slots.push(slot);
    return slot;
  }
}
