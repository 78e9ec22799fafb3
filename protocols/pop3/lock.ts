/**
 * Maildrop locks (RFC 1939 §4, RFC 2449 §8.1.2 IN-USE): at most one POP3 session per
 * account at a time. Held in memory: one server process serves one store. Locks are scoped
 * by the Store object, so several servers in one process (tests) do not see each other.
 *
 * @module
 */

/** In-memory exclusive locks keyed by (scope, account id). */
export class MaildropLocks {
  #held = new WeakMap<object, Set<number>>();

  /** Takes the lock; returns its release function, or null when someone else holds it. */
  tryAcquire(scope: object, accountId: number): (() => void) | null {
    let set = this.#held.get(scope);
    if (!set) this.#held.set(scope, set = new Set());
    if (set.has(accountId)) return null;
    set.add(accountId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      set.delete(accountId);
    };
  }

  /** True while the account's maildrop is locked. */
  isLocked(scope: object, accountId: number): boolean {
    return this.#held.get(scope)?.has(accountId) ?? false;
  }
}

/** The process-wide lock table the POP3 listeners share. */
export const maildropLocks: MaildropLocks = new MaildropLocks();
