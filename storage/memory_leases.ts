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
