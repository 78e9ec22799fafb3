/**
 * One listener on the store's change events for all IMAP sessions of a store, fanning out
 * to a Set. `EventTarget` keeps listeners in a list and scans it on every add and remove
 * (duplicate check), which made 10,000 connecting sessions cost O(n²); a Set is O(1).
 *
 * Callbacks run synchronously in the order they were added and must only record (no I/O).
 *
 * @module
 */
import type { MailboxChange, Store } from "../../storage/mod.ts";

/** A session's change callback. */
export type ChangeCallback = (change: MailboxChange) => void;

const hubs = new WeakMap<Store, Set<ChangeCallback>>();

/** Calls `cb` after every committed change of `store`; returns the unsubscribe function. */
export function subscribeChanges(store: Store, cb: ChangeCallback): () => void {
  let set = hubs.get(store);
  if (!set) {
    const callbacks = new Set<ChangeCallback>();
    store.changes.addEventListener("change", (ev) => {
      const change = (ev as CustomEvent<MailboxChange>).detail;
      for (const f of callbacks) f(change);
    });
    hubs.set(store, set = callbacks);
  }
  set.add(cb);
  return () => set.delete(cb);
}
