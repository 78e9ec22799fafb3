/**
 * Upgrades that cannot strand data: before the writer migrates, look at the database without
 * writing, refuse a schema newer than this code, and copy the database aside when migrations
 * are pending.
 *
 * - `planUpgrade` opens the file read-only (`query_only`) and reads `PRAGMA user_version`; it
 *   never writes (a newer database is left exactly as it was: tests/upgrade_test.ts checks the
 *   file's bytes).
 * - `backupBeforeMigration` writes `<dir>/pre-migration-<from>-<to>-<time>.db` with SQLite's
 *   online backup API in one step (one read transaction: a consistent copy even of a WAL
 *   database being written; `VACUUM INTO` would need ATTACH, which Deno allows only with
 *   every permission), as a `.partial` file that is fsynced and renamed, so a crash never leaves a half copy under the final name. It refuses (throws)
 *   when the database is larger than the configured limit: the operator then raises the limit
 *   or says `--skip-migration-backup` — a migration is never run silently without a copy.
 * - The copies stay until a later start that finds nothing to migrate (`pruneMigrationBackups`):
 *   by then the upgraded server has run, and the copy is the way back if it had not.
 *
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { backup, DatabaseSync } from "node:sqlite";
import { StoreError } from "../mod.ts";
import { describeMigration, SCHEMA_VERSION } from "./schema.ts";

/** What opening the database would do. */
export interface UpgradePlan {
  /** The database file exists and has a schema (a new file is created, not migrated). */
  exists: boolean;
  from: number;
  to: number;
  /** One line per pending migration. */
  pending: string[];
}

/** A database written by a newer denomail: never opened for writing. */
export class SchemaTooNewError extends StoreError {
  constructor(path: string, found: number) {
    super(
      "invalid",
      `${path}: database schema version ${found} is newer than this denomail knows ` +
        `(${SCHEMA_VERSION}); refusing to start so that nothing is written. Run the newer ` +
        `denomail, or restore a backup taken before the upgrade`,
    );
  }
}

function userVersion(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
}

/** Reads the schema version without writing; throws SchemaTooNewError for a newer one. */
export function planUpgrade(path: string): UpgradePlan {
  const from = existsSync(path) && statSync(path).size > 0 ? userVersion(path) : 0;
  if (from > SCHEMA_VERSION) throw new SchemaTooNewError(path, from);
  const pending: string[] = [];
  for (let v = from; v < SCHEMA_VERSION; v++) pending.push(describeMigration(v));
  return { exists: from > 0, from, to: SCHEMA_VERSION, pending };
}

/** Bytes of the database with its WAL (about what a copy takes). */
export function databaseBytes(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`]) if (existsSync(p)) n += statSync(p).size;
  return n;
}

/**
 * Copies the database to `dest` through `dest.partial`, fsynced and renamed: either a complete
 * copy under the final name or none. One backup step copies every page inside one read
 * transaction: consistent while others write (WAL), never restarted by their commits.
 */
export async function snapshotDatabase(path: string, dest: string): Promise<void> {
  const partial = `${dest}.partial`;
  try {
    Deno.removeSync(partial);
  } catch { /* none left from an earlier crash */ }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    await backup(db, partial, { rate: -1 });
    const fd = openSync(partial, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, dest);
  } catch (e) {
    // A full disk, say: no half copy is left behind (the caller refuses to migrate).
    for (const p of [partial, `${partial}-journal`]) {
      try {
        Deno.removeSync(p);
      } catch { /* not there */ }
    }
    throw e;
  } finally {
    db.close();
  }
}

/** Options of the pre-migration copy (`[storage]` keys, `serve --skip-migration-backup`). */
export interface MigrationBackupOptions {
  dir: string;
  maxBytes: number;
  skip: boolean;
  now?: number;
}

/**
 * Copies the database before pending migrations run; returns the copy's path, or null when
 * nothing is pending (or the copy was skipped on request).
 */
export async function backupBeforeMigration(
  path: string,
  plan: UpgradePlan,
  o: MigrationBackupOptions,
): Promise<string | null> {
  if (!plan.exists || plan.pending.length === 0 || o.skip) return null;
  const size = databaseBytes(path);
  if (size > o.maxBytes) {
    throw new StoreError(
      "invalid",
      `storage.pre_migration_backup_max_bytes: the database (${size} bytes) is larger than ` +
        `${o.maxBytes}; raise it, or start with --skip-migration-backup to migrate ` +
        `${plan.from} -> ${plan.to} without a copy`,
    );
  }
  Deno.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const stamp = new Date(o.now ?? Date.now()).toISOString().replace(/[:.]/g, "-");
  const dest = join(o.dir, `pre-migration-${plan.from}-${plan.to}-${stamp}.db`);
  await snapshotDatabase(path, dest);
  return dest;
}

/** Removes earlier pre-migration copies (after a start that had nothing to migrate). */
export function pruneMigrationBackups(dir: string): string[] {
  const removed: string[] = [];
  if (!existsSync(dir)) return removed;
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile || !e.name.startsWith("pre-migration-")) continue;
    Deno.removeSync(join(dir, e.name));
    removed.push(e.name);
  }
  return removed;
}
