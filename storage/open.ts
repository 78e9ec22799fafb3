/**
 * Opens the Store a configuration asks for.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../core/config.ts";
import type { Store } from "./mod.ts";
import { openSqliteStore } from "./sqlite/store.ts";

/** File name of the SQLite database inside `data_dir`. */
export const SQLITE_FILE = "denomail.db";

/**
 * Opens the configured backend. SQLite lives at `<data_dir>/denomail.db` (the folder is
 * created). `inlineWrites`: commit on the calling thread instead of in the writer worker —
 * for the CLI and other short-lived processes.
 */
export async function openStore(
  config: Config,
  opts: { inlineWrites?: boolean } = {},
): Promise<Store> {
  switch (config.storage.backend) {
    case "sqlite":
      await Deno.mkdir(config.dataDir, { recursive: true });
      return await openSqliteStore(join(config.dataDir, SQLITE_FILE), opts);
    case "postgres":
      throw new Error("storage.backend = postgres is not implemented yet");
    default:
      throw new Error(`unknown storage.backend: ${String(config.storage.backend)}`);
  }
}
