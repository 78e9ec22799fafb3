/**
 * Named leases kept in memory, for a backend that one process owns (SQLite: one process per
 * data dir). Same meaning as the PostgreSQL `leases` table (`Store.tryLease`): a name is held
 * by one holder until released or until its lease runs out.
 *
 * @module
 */

/** name -> holder and lease end (ms since the epoch). */
export class MemoryLeases {
  #held = new Map<string, { holder: string; until: number }>();
  /** Queue entries claimed and not yet rescheduled or removed. */
  #claimed = new Set<number>();

  /**
   * `Store.claimQueue` over a backend's `dueQueue`: the due entries not under a running
   * claim, at most `limit`, each claimed (`queue:<id>`) for `node` until `now + ms`.
   */
  async claimQueue<T extends { id: number }>(
    due: (limit: number) => Promise<T[]>,
    now: number,
    limit: number,
    lease: { node: string; ms: number },
  ): Promise<T[]> {
    const entries = await due(Math.max(0, limit) + this.#claimed.size);
    const out = entries.filter((e) => !this.held(`queue:${e.id}`, now)).slice(0, limit);
    for (const e of out) {
      this.tryLease(`queue:${e.id}`, lease.node, now, now + lease.ms);
      this.#claimed.add(e.id);
    }
    return out;
  }

  /** Ends the claim on a queue entry (rescheduled or removed). */
  endClaim(id: number): void {
    this.release(`queue:${id}`);
    this.#claimed.delete(id);
  }

  /** Takes `name` for `holder` until `until`, unless another holder's lease is still running. */
  tryLease(name: string, holder: string, now: number, until: number): boolean {
    const cur = this.#held.get(name);
    if (cur && cur.holder !== holder && cur.until > now) return false;
    this.#held.set(name, { holder, until });
    return true;
  }

  /** Extends the leases `holder` still holds on `names`. */
  renew(names: string[], holder: string, until: number): void {
    for (const name of names) {
      const cur = this.#held.get(name);
      if (cur && cur.holder === holder) cur.until = until;
    }
  }

  /** Ends `holder`'s lease on `name` (another holder's is left alone). */
  release(name: string, holder?: string): void {
    const cur = this.#held.get(name);
    if (cur && (holder === undefined || cur.holder === holder)) this.#held.delete(name);
  }

  /** Whether `name` is held by someone at `now`. */
  held(name: string, now: number): boolean {
    const cur = this.#held.get(name);
    return cur !== undefined && cur.until > now;
  }
}
