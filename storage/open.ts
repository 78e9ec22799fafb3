/**
 * Opens the Store that settings ask for. The settings are plain values (app/store.ts
 * builds them from the config): storage reads no configuration of its own.
 *
 * @module
 */
import { join } from "node:path";
import type { Store } from "./mod.ts";
import { openSqliteStore } from "./sqlite/store.ts";

/** File name of the SQLite database inside `dataDir`. */
export const SQLITE_FILE = "denomail.db";

/** Which backend, and where its data lives. */
export interface StoreSettings {
  backend: "sqlite" | "postgres";
  /** The folder of the SQLite database (created when missing). */
  dataDir: string;
  /** The connection URL of backend = postgres. */
  url?: string | null;
  /**
   * Commit on the calling thread instead of in the writer worker — for the CLI and other
   * short-lived processes.
   */
  inlineWrites?: boolean;
}

/** Opens the backend. SQLite lives at `<dataDir>/denomail.db`. */
export async function openStore(settings: StoreSettings): Promise<Store> {
  switch (settings.backend) {
    case "sqlite":
      await Deno.mkdir(settings.dataDir, { recursive: true });
      return await openSqliteStore(join(settings.dataDir, SQLITE_FILE), {
        inlineWrites: settings.inlineWrites,
      });
    case "postgres":
      throw new Error("storage.backend = postgres is not implemented yet");
    default:
      throw new Error(`unknown storage.backend: ${String(settings.backend)}`);
  }
}
