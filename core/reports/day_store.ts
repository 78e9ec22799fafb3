/**
 * Per-day, per-domain report data in the store's kv area (namespace `ns`): one JSON value
 * per "day|domain" plus an index of those keys. Updates are read-modify-write, serialised
 * within the process (per store and namespace); two processes updating at once (a
 * cluster) may lose an update — report counts are estimates, never mail data.
 *
 * @module
 */
import type { Store } from "../../storage/mod.ts";

type KvStore = Pick<Store, "kvGet" | "kvSet" | "kvDelete">;

const INDEX = "index";
const chains = new WeakMap<object, Map<string, Promise<unknown>>>();

/** One day's data for one domain, by namespace. */
export class DayStore<T> {
  constructor(readonly store: KvStore, readonly ns: string) {}

  /** Runs `fn` after every earlier update of this store and namespace. */
  #serial<R>(fn: () => Promise<R>): Promise<R> {
    let m = chains.get(this.store);
    if (!m) chains.set(this.store, m = new Map());
    const next = (m.get(this.ns) ?? Promise.resolve()).then(fn, fn);
    m.set(this.ns, next.catch(() => {}));
    return next;
  }

  /** Replaces the value of day|domain by `fn(current)`. */
  update(day: string, domain: string, fn: (cur: T | null) => T): Promise<void> {
    return this.#serial(async () => {
      const key = `${day}|${domain.toLowerCase()}`;
      const raw = await this.store.kvGet(this.ns, key);
      await this.store.kvSet(this.ns, key, JSON.stringify(fn(raw ? JSON.parse(raw) as T : null)));
      // The value first, then the index: a reader never finds a key without its value.
      if (!raw) {
        const keys = await this.#index();
        if (!keys.includes(key)) {
          await this.store.kvSet(this.ns, INDEX, JSON.stringify([...keys, key]));
        }
      }
    });
  }

  async #index(): Promise<string[]> {
    const raw = await this.store.kvGet(this.ns, INDEX);
    return raw ? JSON.parse(raw) as string[] : [];
  }

  /** Every day|domain with data, oldest first. */
  async entries(): Promise<Array<{ day: string; domain: string }>> {
    return (await this.#index()).map((k) => {
      const bar = k.indexOf("|");
      return { day: k.slice(0, bar), domain: k.slice(bar + 1) };
    }).sort((a, b) => a.day < b.day ? -1 : a.day > b.day ? 1 : 0);
  }

  async get(day: string, domain: string): Promise<T | null> {
    const raw = await this.store.kvGet(this.ns, `${day}|${domain}`);
    return raw ? JSON.parse(raw) as T : null;
  }

  /** Forgets day|domain (after its report went out). */
  drop(day: string, domain: string): Promise<void> {
    return this.#serial(async () => {
      const key = `${day}|${domain}`;
      await this.store.kvDelete(this.ns, key);
      const keys = await this.#index();
      await this.store.kvSet(this.ns, INDEX, JSON.stringify(keys.filter((k) => k !== key)));
    });
  }
}
