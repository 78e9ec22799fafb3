/**
 * Opens the Store that settings ask for. The settings are plain values (app/store.ts
 * builds them from the config): storage reads no configuration of its own.
 *
 * @module
 */
import { join } from "node:path";
import type { Store } from "./mod.ts";
import { openSqliteStore } from "./sqlite/store.ts";
import { openPostgresStore } from "./postgres/store.ts";

/** File name of the SQLite database inside `dataDir`. */
export const SQLITE_FILE = "denomail.db";

/** Which backend, and where its data lives. */
export interface StoreSettings {
  backend: "sqlite" | "postgres";
  /** The folder of the SQLite database (created when missing). */
  dataDir: string;
  /** The connection URL of backend = postgres (`postgres://USER[:PASS]@HOST:PORT/DB`). */
  url?: string | null;
  /**
   * Commit on the calling thread instead of in the writer worker — for the CLI and other
   * short-lived processes.
   */
  inlineWrites?: boolean;
}

/**
 * Opens the backend. SQLite lives at `<dataDir>/denomail.db`; PostgreSQL at `url` (its schema
 * is created or migrated on open).
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  switch (settings.backend) {
    case "sqlite":
      await Deno.mkdir(settings.dataDir, { recursive: true });
      return await openSqliteStore(join(settings.dataDir, SQLITE_FILE), {
        inlineWrites: settings.inlineWrites,
      });
    case "postgres":
      if (!settings.url) throw new Error("storage.backend = postgres needs storage.url");
      return await openPostgresStore(settings.url);
    default:
      throw new Error(`unknown storage.backend: ${String(settings.backend)}`);
  }
}
