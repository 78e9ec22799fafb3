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
import { backupBeforeMigration, planUpgrade } from "./sqlite/upgrade.ts";
import { log } from "../lib/log.ts";

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
  /**
   * SQLite: copy the database to `<dataDir>/backups/` before pending migrations run
   * (sqlite/upgrade.ts). Absent: copied, without a size limit.
   */
  migrationBackup?: { maxBytes: number; skip: boolean };
}

/**
 * Opens the backend. SQLite lives at `<dataDir>/denomail.db`; PostgreSQL at `url` (its schema
 * is created or migrated on open).
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  switch (settings.backend) {
    case "sqlite": {
      await Deno.mkdir(settings.dataDir, { recursive: true });
      const path = join(settings.dataDir, SQLITE_FILE);
      // Before the writer touches the file: a newer schema throws here, unwritten.
      const plan = planUpgrade(path);
      const copy = await backupBeforeMigration(path, plan, {
        dir: join(settings.dataDir, "backups"),
        maxBytes: settings.migrationBackup?.maxBytes ?? Number.MAX_SAFE_INTEGER,
        skip: settings.migrationBackup?.skip ?? false,
      });
      if (plan.pending.length > 0 && plan.exists) {
        log.warn("storage", `migrating the database schema ${plan.from} -> ${plan.to}`, {
          copy: copy ?? "skipped (--skip-migration-backup)",
        });
      }
      return await openSqliteStore(path, {
        inlineWrites: settings.inlineWrites,
      });
    }
    case "postgres":
      if (!settings.url) throw new Error("storage.backend = postgres needs storage.url");
      return await openPostgresStore(settings.url);
    default:
      throw new Error(`unknown storage.backend: ${String(settings.backend)}`);
  }
}
