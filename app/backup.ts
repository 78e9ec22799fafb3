/**
 * `backup --out FILE`: one gzip-compressed tar (lib/tar.ts) with everything needed to bring a
 * denomail back, taken while the server runs.
 *
 * Archive layout, in this order (README, "Backups and upgrades"):
 * - `manifest.json`: format, denomail version, schema version, counts (domains, users,
 *   mailboxes, messages, queue entries, blobs) and, for every following entry, its size
 *   and SHA-256;
 * - `denomail.db`: a consistent snapshot of the SQLite database (the online backup API in one
 *   step, one read transaction: the server keeps delivering meanwhile; message bodies live in the
 *   database, so the snapshot holds every blob);
 *   On PostgreSQL, instead: `pg/<table>.jsonl`, every denomail table exported in one
 *   snapshot (app/backup_pg.ts, storage/postgres/export.ts);
 * - `files/...`: the data_dir state the database does not hold: `auth_secret` (SCRAM's
 *   secret), `dkim/` (signing keys) and `tls/` (the self-signed certificate, only when no
 *   `[tls]` files are configured). Not: the pid file, plugins-reload.json, the web bundle
 *   cache, `backups/`. Plugin kv, Sieve scripts, tokens and JMAP records are in the database.
 * - `backup.sha256`: the SHA-256 over every entry before it (its name, a NUL, its bytes).
 *
 * Durability: the archive is written to `FILE.partial` (the snapshot to `FILE.partial.db`),
 * fsynced, then renamed to FILE: a kill at any moment leaves no file named FILE. Memory stays
 * flat: files are read and compressed in 1 MiB chunks.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Config } from "../core/config.ts";
import { VERSION } from "../core/version.ts";
import { SQLITE_FILE } from "../storage/open.ts";
import { snapshotDatabase } from "../storage/sqlite/upgrade.ts";
import { TAR_END, tarHeader, tarPadding } from "../lib/tar.ts";
import { spoolPostgres } from "./backup_pg.ts";
import { syncDir, writeAll } from "../lib/files.ts";

export const BACKUP_FORMAT = "denomail-backup";
export const BACKUP_FORMAT_VERSION = 1;
const CHUNK = 1 << 20;

export interface ManifestEntry {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: string;
  format_version: number;
  denomail_version: string;
  created_at: string;
  backend: "sqlite" | "postgres";
  schema_version: number;
  counts: Record<string, number>;
  entries: ManifestEntry[];
}

/** Reads a file in chunks (never whole). */
async function* chunks(path: string): AsyncGenerator<Uint8Array> {
  using f = await Deno.open(path);
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await f.read(buf);
    if (n === null) return;
    yield buf.slice(0, n);
  }
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of chunks(path)) h.update(c);
  return h.digest("hex");
}

/** The data_dir files a backup carries (see the module note), as [archive name, path]. */
export function stateFiles(config: Config): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else if (e.isFile && !e.name.endsWith(".partial")) {
        out.push([`files/${relative(config.dataDir, p)}`, p]);
      }
    }
  };
  const secret = join(config.dataDir, "auth_secret");
  if (existsSync(secret)) out.push(["files/auth_secret", secret]);
  walk(join(config.dataDir, "dkim"));
  if (config.tls.cert === null) walk(join(config.dataDir, "tls"));
  return out;
}

/** Counts and schema version of a database file (the snapshot). */
function describe(path: string): { schema: number; counts: Record<string, number> } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      schema: n("SELECT user_version AS n FROM pragma_user_version"),
      counts: {
        domains: n("SELECT count(*) AS n FROM domains"),
        users: n("SELECT count(*) AS n FROM accounts"),
        mailboxes: n("SELECT count(*) AS n FROM mailboxes"),
        messages: n("SELECT count(*) AS n FROM messages"),
        queue: n("SELECT count(*) AS n FROM queue"),
        blobs: n("SELECT count(*) AS n FROM blobs"),
      },
    };
  } finally {
    db.close();
  }
}

export interface BackupResult {
  manifest: Manifest;
  bytes: number;
}

/**
 * Writes the backup of the SQLite store of `config` to `out` (which must not exist).
 * `onProgress(done, total)` counts uncompressed bytes.
 */
export async function createBackup(
  config: Config,
  out: string,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<BackupResult> {
  const dbPath = join(config.dataDir, SQLITE_FILE);
  const partial = `${out}.partial`;
  const snapshot = `${out}.partial.db`;
  const spool = `${out}.partial.pg`;
  const pg = config.storage.backend === "postgres";
  try {
    let db: { schema: number; counts: Record<string, number>; sources: Array<[string, string]> };
    if (pg) db = await spoolPostgres(config.storage.url!, spool);
    else {
      await snapshotDatabase(dbPath, snapshot);
      db = { ...describe(snapshot), sources: [["denomail.db", snapshot]] };
    }
    const { schema, counts } = db;
    const sources: Array<[string, string]> = [...db.sources, ...stateFiles(config)];
    const entries: ManifestEntry[] = [];
    for (const [name, path] of sources) {
      entries.push({ name, size: Deno.statSync(path).size, sha256: await fileDigest(path) });
    }
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      format_version: BACKUP_FORMAT_VERSION,
      denomail_version: VERSION,
      created_at: new Date().toISOString(),
      backend: pg ? "postgres" : "sqlite",
      schema_version: schema,
      counts,
      entries,
    };
    const total = entries.reduce((n, e) => n + e.size, 0);
    const whole = createHash("sha256");
    let done = 0;
    const tar = async function* (): AsyncGenerator<Uint8Array> {
      const entry = function* (name: string, data: Uint8Array) {
        yield tarHeader(name, data.length, Date.now());
        yield data;
        yield tarPadding(data.length);
      };
      const man = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
      whole.update(`manifest.json\0`).update(man);
      yield* entry("manifest.json", man);
      for (const [i, [name, path]] of sources.entries()) {
        const e = entries[i];
        yield tarHeader(name, e.size, Date.now());
        whole.update(`${name}\0`);
        const h = createHash("sha256");
        let size = 0;
        for await (const c of chunks(path)) {
          h.update(c);
          whole.update(c);
          size += c.length;
          if (size > e.size) break;
          done += c.length;
          onProgress(done, total);
          yield c;
        }
        // A file that changed between the two reads would not restore: fail now instead.
        if (size !== e.size || h.digest("hex") !== e.sha256) {
          throw new Error(`backup: ${name} changed while it was being copied; run backup again`);
        }
        yield tarPadding(e.size);
      }
      yield* entry("backup.sha256", new TextEncoder().encode(whole.digest("hex") + "\n"));
      yield TAR_END;
    };
    const gz = new CompressionStream("gzip");
    using file = await Deno.open(partial, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    let bytes = 0;
    const drain = (async () => {
      for await (const c of gz.readable) {
        await writeAll(file, c);
        bytes += c.length;
      }
    })();
    const w = gz.writable.getWriter();
    try {
      for await (const c of tar()) {
        await w.ready;
        await w.write(c as Uint8Array<ArrayBuffer>);
      }
      await w.close();
    } catch (e) {
      await w.abort(e).catch(() => {});
      await drain.catch(() => {});
      throw e;
    }
    await drain;
    await file.sync();
    Deno.renameSync(partial, out);
    await syncDir(dirname(out));
    return { manifest, bytes };
  } finally {
    for (const p of [snapshot, `${snapshot}-wal`, `${snapshot}-shm`, partial, spool]) {
      await Deno.remove(p, { recursive: true }).catch(() => {});
    }
  }
}
