/**
 * The PostgreSQL backend of the Store (see store.ts).
 *
 * @module
 */
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from "./store.ts";
