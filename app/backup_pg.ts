/**
 * The PostgreSQL side of `backup` and `restore` (app/backup.ts, app/restore.ts): the tables
 * are exported in one snapshot (storage/postgres/export.ts) to JSON-lines files beside the
 * archive (`FILE.partial.pg/`, so that each entry's size and SHA-256 are known before the
 * archive is written), and imported into a fresh database of the same schema version.
 *
 * @module
 */
import { join } from "node:path";
import { connect, type Db } from "../storage/postgres/rows.ts";
import { exportTables, importTable, isEmptyDatabase } from "../storage/postgres/export.ts";
import { openPostgresStore } from "../storage/postgres/store.ts";
import { SCHEMA_VERSION } from "../storage/postgres/schema.ts";
import { writeAll } from "../lib/files.ts";

/** Exports every table to `dir`; returns the archive entries ([name, path]) and the counts. */
export async function spoolPostgres(url: string, dir: string) {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const db = connect(url, { max: 1 });
  try {
    const sources: Array<[string, string]> = [];
    const r = await exportTables(db, async (table, lines) => {
      const path = join(dir, `${table}.jsonl`);
      using f = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
      for await (const c of lines) await writeAll(f, c);
      await f.sync();
      sources.push([`pg/${table}.jsonl`, path]);
    });
    return { schema: r.schemaVersion, counts: r.counts, sources };
  } finally {
    await db.end({ timeout: 5 });
  }
}

/** A database ready to take a restore; `refuse` says why not (before anything is written). */
export async function openForRestore(
  url: string,
  schemaVersion: number,
  refuse: (why: string) => Error,
): Promise<Db> {
  if (schemaVersion !== SCHEMA_VERSION) {
    throw refuse(
      `restore: the backup has PostgreSQL schema ${schemaVersion}, this denomail ${SCHEMA_VERSION}; ` +
        `restore it with the denomail that made it`,
    );
  }
  const probe = connect(url, { max: 1 });
  try {
    if (!await isEmptyDatabase(probe)) {
      throw refuse(
        `restore: the database of storage.url is not empty; restore only into a new one`,
      );
    }
  } finally {
    await probe.end({ timeout: 5 });
  }
  await (await openPostgresStore(url)).close(); // creates the schema
  return connect(url, { max: 1 });
}

export { importTable };
