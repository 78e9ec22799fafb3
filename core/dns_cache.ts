/**
 * A bounded DNS answer cache: answers kept for their TTL (RFC 1035 §3.2.1, capped), "no such
 * name" / "no records" kept briefly (RFC 2308 §5 asks for the SOA minimum, which we do not
 * read: NEGATIVE_TTL_MS stands in), temporary failures never kept. Identical lookups in
 * flight share one query. At most `maxEntries` answers; the oldest go first.
 *
 * @module
 */

/** Longest an answer is kept, whatever its TTL. */
export const MAX_TTL_MS = 3_600_000;
/** How long an NXDOMAIN / NODATA answer is kept. */
export const NEGATIVE_TTL_MS = 30_000;
/** Answers kept at most. */
export const MAX_ENTRIES = 10_000;

interface Entry {
  expires: number;
  value?: unknown;
  error?: Error;
}

/** What a lookup found: its value and how long it may be kept (0: do not keep). */
export interface Fresh<T> {
  value: T;
  ttlMs: number;
}

export class DnsCache {
  #entries = new Map<string, Entry>();
  #inflight = new Map<string, Promise<unknown>>();

  constructor(
    readonly maxEntries = MAX_ENTRIES,
    readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The cached answer for `key`, else the one `fetch` gets (shared with lookups of the same
   * key in flight). `permanent(e)` says whether a failure is a negative answer worth keeping.
   */
  lookup<T>(
    key: string,
    fetch: () => Promise<Fresh<T>>,
    permanent: (e: unknown) => boolean,
  ): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit) {
      if (hit.expires > this.now()) {
        if (hit.error) return Promise.reject(hit.error);
        return Promise.resolve(hit.value as T);
      }
      this.#entries.delete(key);
    }
    const running = this.#inflight.get(key);
    if (running) return running as Promise<T>;
    const p = fetch().then(
      (f) => {
        this.#put(key, { expires: this.now() + Math.min(f.ttlMs, MAX_TTL_MS), value: f.value });
        return f.value;
      },
      (e) => {
        if (permanent(e)) this.#put(key, { expires: this.now() + NEGATIVE_TTL_MS, error: e });
        throw e;
      },
    ).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  #put(key: string, e: Entry): void {
    if (e.expires <= this.now()) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.maxEntries) {
      // Map keeps insertion order: the first key is the oldest.
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, e);
  }
}
