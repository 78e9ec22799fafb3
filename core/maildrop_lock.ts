/**
 * Maildrop locks (RFC 1939 §4, RFC 2449 §8.1.2 IN-USE): at most one POP3 session per
 * account at a time, across every node on one database. One table per server, created by
 * app/server.ts and reached as `deps.maildropLocks`.
 *
 * A lock is a named lease in the Store (`maildrop:<account id>`; PostgreSQL: a row every node
 * sees; SQLite: in the one process that owns the data dir), taken for this server's holder
 * id and renewed every third of `LEASE_MS` while held. A node that dies stops renewing: its
 * locks end by themselves after at most `LEASE_MS`. A set in memory answers this server's
 * own second session without asking the database.
 *
 * @module
 */
import type { Store } from "../storage/mod.ts";
import { log } from "../lib/log.ts";

/** How long a lock outlives a node that stopped renewing it. */
export const LEASE_MS = 30_000;

/** Exclusive maildrop locks keyed by account id, shared by every node of a database. */
export class MaildropLocks {
  #store: Store;
  #now: () => number;
  #holder: string;
  #held = new Set<number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(store: Store, opts: { node: string; now?: () => number }) {
    this.#store = store;
    this.#now = opts.now ?? Date.now;
    // Unique per server, so that a restarted node does not inherit its old locks.
    this.#holder = `${opts.node}/${crypto.randomUUID()}`;
  }

  /**
   * Takes the lock; resolves to its release function, or null when another session (here
   * or on another node) holds it. Throws when the store cannot answer.
   */
  async tryAcquire(accountId: number): Promise<(() => Promise<void>) | null> {
    const held = this.#held;
    if (held.has(accountId)) return null;
    held.add(accountId);
    const name = `maildrop:${accountId}`;
    let ok = false;
    try {
      const now = this.#now();
      ok = await this.#store.tryLease(name, this.#holder, now, now + LEASE_MS);
    } finally {
      if (!ok) held.delete(accountId);
    }
    if (!ok) return null;
    this.#timer ??= setInterval(() => this.#renew(), LEASE_MS / 3);
    let released: Promise<void> | null = null;
    // Resolves once other nodes may take the lock (never rejects).
    return () => {
      if (released) return released;
      held.delete(accountId);
      if (held.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
      released = this.#store.releaseLease(name, this.#holder).catch((e) => {
        // The lease then ends by itself after LEASE_MS.
        log.warn("pop3", "could not release a maildrop lock", { error: (e as Error).message });
      });
      return released;
    };
  }

  #renew(): void {
    const names = [...this.#held].map((id) => `maildrop:${id}`);
    if (names.length === 0) return;
    this.#store.renewLeases(names, this.#holder, this.#now() + LEASE_MS).catch((e) => {
      log.warn("pop3", "could not renew maildrop locks", { error: (e as Error).message });
    });
  }

  /** True while this server holds the account's maildrop lock. */
  isLocked(accountId: number): boolean {
    return this.#held.has(accountId);
  }
}
