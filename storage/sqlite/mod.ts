/**
 * The embedded SQLite backend (`node:sqlite`): WAL, `synchronous = FULL`, group commit in a
 * writer worker, reads on the caller's thread.
 *
 * @module
 */
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from "./store.ts";
