/**
 * The shared bodies this node has stored in batches that committed, by hex digest: a batch
 * names such a body by its digest alone (deliver_known_bodies_sql.ts), which PostgreSQL checks
 * is still stored. Bounded: the oldest digests are forgotten first.
 *
 * @module
 */

/** Digests remembered (64 hex characters each: about 0.5 MB at most). */
const CAPACITY = 4096;

export class KnownBodies {
  /** Insertion-ordered: the first key is the oldest. */
  #digests = new Set<string>();

  has(digest: string): boolean {
    return this.#digests.has(digest);
  }

  /** Remembers `digest` (again: it becomes the newest). */
  add(digest: string): void {
    this.#digests.delete(digest);
    this.#digests.add(digest);
    if (this.#digests.size > CAPACITY) {
      this.#digests.delete(this.#digests.values().next().value!);
    }
  }

  /** Forgets every digest (a batch found one no longer stored). */
  clear(): void {
    this.#digests.clear();
  }
}
