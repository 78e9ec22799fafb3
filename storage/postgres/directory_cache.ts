/**
 * A per-node cache of the directory reads every SMTP recipient costs (`hasDomain`,
 * `getAccount`, `getAlias`: four round trips per RCPT, about a quarter of a delivery's CPU
 * on both sides), kept coherent across nodes by LISTEN/NOTIFY.
 *
 * Invariants:
 * - Every change to `domains`, `accounts` or `aliases`, by any node or the CLI, sends a
 *   notification on DIRECTORY_CHANNEL when it commits (statement triggers, migration 17):
 *   every node drops its whole cache on it. A write of this instance also drops it as soon
 *   as it commits, before it resolves (read-your-writes).
 * - The cache is used only while its LISTEN connection is up: a lost connection empties it
 *   and disables it until LISTEN is in place again (so a missed notification cannot leave
 *   a stale entry). Entries also expire after DIRECTORY_TTL_MS, whatever happens.
 * - A read that was under way when the cache was dropped is not kept (generation count).
 * - At most MAX_ENTRIES entries (client-chosen addresses make the keys): beyond, it starts
 *   over empty.
 *
 * @module
 */
import type postgres from "postgres";
import { listenConnection } from "./listen_connection.ts";

/** The NOTIFY channel of directory changes. */
export const DIRECTORY_CHANNEL = "denomail_directory";

/** Migration: the triggers that announce directory changes. */
export const DIRECTORY_NOTIFY_MIGRATION = `
  CREATE FUNCTION denomail_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${DIRECTORY_CHANNEL}', '');
    RETURN NULL;
  END $$;
  CREATE TRIGGER domains_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION denomail_directory_changed();
  CREATE TRIGGER accounts_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION denomail_directory_changed();
  CREATE TRIGGER aliases_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aliases
    FOR EACH STATEMENT EXECUTE FUNCTION denomail_directory_changed();
`;

/** How long an entry may serve at most, whatever happens (default). */
export const DIRECTORY_TTL_MS = 5000;
const MAX_ENTRIES = 10_000;
/** Pause before LISTEN is tried again after the connection was lost. */
const RELISTEN_MS = 500;

/** See the module doc. */
export class DirectoryCache {
  #entries = new Map<string, { at: number; value: unknown }>();
  #generation = 0;
  #listening = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sql: postgres.Sql;
  #ttl: number;

  constructor(url: string, ttlMs = DIRECTORY_TTL_MS) {
    this.#ttl = ttlMs;
    this.#sql = listenConnection(url, {
      onnotify: () => this.clear(),
      onclose: () => {
        this.#listening = false;
        this.clear();
        this.#relisten();
      },
    });
    this.#relisten(0);
  }

  /** The cached value of `key`, else `load()`'s (kept when nothing changed meanwhile). */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const e = this.#entries.get(key);
    if (e && this.#listening && performance.now() - e.at < this.#ttl) return e.value as T;
    const generation = this.#generation;
    const value = await load();
    if (this.#listening && generation === this.#generation) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(key, { at: performance.now(), value });
    }
    return value;
  }

  /** Drops every entry (a directory change). */
  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  #relisten(ms = RELISTEN_MS): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      if (this.#closed) return;
      try {
        await this.#sql.unsafe(`LISTEN ${DIRECTORY_CHANNEL}`);
        this.clear(); // changes made while not listening
        this.#listening = !this.#closed;
      } catch {
        this.#relisten(); // also retried by onclose; the timer keeps it to one
      }
    }, ms);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    clearTimeout(this.#timer);
    await this.#sql.end({ timeout: 1 });
  }
}
