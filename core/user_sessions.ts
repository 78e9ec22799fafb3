/**
 * Logged-in sessions per account, for the per-user connection limit
 * (`limits.max_imap_connections_per_user`). One registry per server, created by
 * app/server.ts and reached as `deps.userSessions`. No I/O.
 *
 * @module
 */

/** Counts the sessions of each account. */
export class UserSessions {
  #counts = new Map<number, number>();

  /**
   * Counts one more session of `accountId`; returns the function that releases it (call it
   * once, when the session ends), or null when the account already has `max` sessions.
   */
  claim(accountId: number, max: number): (() => void) | null {
    const counts = this.#counts;
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
  count(accountId: number): number {
    return this.#counts.get(accountId) ?? 0;
  }
}
