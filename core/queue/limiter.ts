/**
 * Concurrency limits for the queue runner: one overall, one per destination domain.
 *
 * @module
 */

/** A counting semaphore; waiters are served first come, first served. */
export class Semaphore {
  #free: number;
  #waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Slots in use. */
  get used(): number {
    return this.size - this.#free;
  }

  get idle(): boolean {
    return this.#free === this.size && this.#waiters.length === 0;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the slot passes straight to the waiter
    else this.#free++;
  }
}

/** Per-key semaphores created on demand and dropped when idle. */
export class KeyedLimiter {
  #map = new Map<string, Semaphore>();

  constructor(readonly perKey: number) {}

  async acquire(key: string): Promise<void> {
    let s = this.#map.get(key);
    if (!s) this.#map.set(key, s = new Semaphore(this.perKey));
    await s.acquire();
  }

  release(key: string): void {
    const s = this.#map.get(key);
    if (!s) return;
    s.release();
    if (s.idle) this.#map.delete(key);
  }

  /** Slots in use for a key. */
  used(key: string): number {
    return this.#map.get(key)?.used ?? 0;
  }
}
