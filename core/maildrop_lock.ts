/**
 * Maildrop locks (RFC 1939 §4, RFC 2449 §8.1.2 IN-USE): at most one POP3 session per
 * account at a time. Held in memory: one table per server, created by app/server.ts and
 * reached as `deps.maildropLocks` (several servers in one process, as in tests, do not see
 * each other's locks).
 *
 * @module
 */

/** In-memory exclusive locks keyed by account id. */
export class MaildropLocks {
  #held = new Set<number>();

  /** Takes the lock; returns its release function, or null when someone else holds it. */
  tryAcquire(accountId: number): (() => void) | null {
    const held = this.#held;
    if (held.has(accountId)) return null;
    held.add(accountId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.delete(accountId);
    };
  }

  /** True while the account's maildrop is locked. */
  isLocked(accountId: number): boolean {
    return this.#held.has(accountId);
  }
}
