/**
 * One listener on the store's change events for every session of a server (IMAP IDLE and
 * NOTIFY today, JMAP push later), fanning out to a Set. `EventTarget` keeps listeners in a
 * list and scans it on every add and remove (duplicate check), which made 10,000
 * connecting sessions cost O(n²); a Set is O(1).
 *
 * One hub per server, created by app/server.ts and reached as `deps.changeHub`.
 * Callbacks run synchronously in the order they were added and must only record (no I/O).
 *
 * @module
 */
import type { MailboxChange, Store } from "../storage/mod.ts";

/** A session's change callback. */
export type ChangeCallback = (change: MailboxChange) => void;

/** The change events of one store, fanned out to its subscribers. */
export class ChangeHub {
  #callbacks = new Set<ChangeCallback>();

  constructor(store: Store) {
    store.changes.addEventListener("change", (ev) => {
      const change = (ev as CustomEvent<MailboxChange>).detail;
      for (const f of this.#callbacks) f(change);
    });
  }

  /** Calls `cb` after every committed change of the store; returns the unsubscribe function. */
  subscribeChanges(cb: ChangeCallback): () => void {
    const callbacks = this.#callbacks;
    callbacks.add(cb);
    return () => callbacks.delete(cb);
  }
}
