/**
 * Logged-in IMAP sessions per account, for the per-user connection limit
 * (`limits.max_imap_connections_per_user`). One registry per Store, so that servers in one
 * process (tests) count separately. No I/O.
 *
 * @module
 */
import type { Store } from "../../storage/mod.ts";

const registries = new WeakMap<Store, Map<number, number>>();

/**
 * Counts one more session of `accountId`; returns the function that releases it (call it
 * once, when the session ends), or null when the account already has `max` sessions.
 */
export function claimUserSession(
  store: Store,
  accountId: number,
  max: number,
): (() => void) | null {
  let counts = registries.get(store);
  if (!counts) registries.set(store, counts = new Map());
  const n = counts.get(accountId) ?? 0;
  if (n >= max) return null;
  counts.set(accountId, n + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (counts.get(accountId) ?? 1) - 1;
    if (left <= 0) counts.delete(accountId);
    else counts.set(accountId, left);
  };
}

/** Sessions of `accountId` currently counted (for tests and metrics). */
export function userSessionCount(store: Store, accountId: number): number {
  return registries.get(store)?.get(accountId) ?? 0;
}
