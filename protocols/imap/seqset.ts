/**
 * Sequence sets resolved to merged, sorted intervals, so that membership costs O(log r)
 * however many ranges a client sends (a 64 KiB line holds ~10,000 of them). No I/O.
 *
 * @module
 */
import type { SeqNumber, SequenceSet } from "./parser.ts";

/** Disjoint closed intervals [lo, hi], sorted ascending. */
export class IntervalSet {
  readonly #lo: number[] = [];
  readonly #hi: number[] = [];

  /**
   * Resolves `ranges` with `*` standing for `star` (RFC 9051 §9: the largest number in use;
   * a range's ends may come in either order).
   */
  constructor(ranges: ReadonlyArray<readonly [SeqNumber, SeqNumber]>, star: number) {
    const spans = ranges.map(([a, b]) => {
      const x = a === "*" ? star : a;
      const y = b === "*" ? star : b;
      return x <= y ? [x, y] : [y, x];
    }).sort((p, q) => p[0] - q[0]);
    for (const [lo, hi] of spans) {
      const last = this.#hi.length - 1;
      if (last >= 0 && lo <= this.#hi[last] + 1) {
        if (hi > this.#hi[last]) this.#hi[last] = hi;
      } else {
        this.#lo.push(lo);
        this.#hi.push(hi);
      }
    }
  }

  /** A sequence set that is not `$`, resolved. */
  static of(set: SequenceSet & { saved: false }, star: number): IntervalSet {
    return new IntervalSet(set.ranges, star);
  }

  /** Whether n lies in one of the intervals. */
  has(n: number): boolean {
    let lo = 0;
    let hi = this.#lo.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n < this.#lo[mid]) hi = mid - 1;
      else if (n > this.#hi[mid]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The intervals, ascending. */
  *intervals(): Generator<[number, number]> {
    for (let i = 0; i < this.#lo.length; i++) yield [this.#lo[i], this.#hi[i]];
  }

  /** The largest number covered, or 0 when empty. */
  get max(): number {
    return this.#hi.length ? this.#hi[this.#hi.length - 1] : 0;
  }

  /** The smallest number covered, or 0 when empty. */
  get min(): number {
    return this.#lo.length ? this.#lo[0] : 0;
  }
}
