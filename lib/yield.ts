/**
 * Yielding to the event loop during long work, so one client's command cannot stall every
 * other client (issue 13 item 3).
 *
 * SQLite reads are synchronous and `await` on an already settled promise only runs
 * microtasks: neither lets a timer, a socket read or another session's greeting run. Only a
 * macrotask does, so `Pacer` waits for a zero-delay timer once `sliceMs` of work have passed
 * since the last yield. Loops call `await pace.tick()` between units of work; a tick costs a
 * clock read until the slice is used up.
 *
 * @module
 */

/** Default work slice: well under the 100 ms another client may wait for a reply. */
export const DEFAULT_SLICE_MS = 10;

/** A real macrotask turn: timers, I/O callbacks and other sessions run before it resolves. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Tracks the time worked since the last yield, and yields when the slice is used up. */
export class Pacer {
  #since = performance.now();

  constructor(readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** True when the current slice is used up (then `tick()` will yield). */
  get due(): boolean {
    return performance.now() - this.#since >= this.sliceMs;
  }

  /** Yields to the event loop when the slice is used up; otherwise returns at once. */
  async tick(): Promise<void> {
    if (!this.due) return;
    await yieldToEventLoop();
    this.#since = performance.now();
  }
}
