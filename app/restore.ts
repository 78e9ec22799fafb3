/**
 * `restore FILE [--data-dir D]`: unpacks a backup (app/backup.ts) into an empty data dir,
 * checking every entry's SHA-256 and the whole archive's while it streams, then verifies the
 * restored database (storage/sqlite/verify.ts).
 *
 * - Refuses a data dir that is not empty (nothing there is ever overwritten).
 * - Each file is written as `<name>.partial`, fsynced, checked and renamed; on any failure
 *   everything written is removed again, so a failed restore leaves the dir as it was.
 * - Only the names a backup makes are accepted (`denomail.db`, `files/<relative path>`
 *   without `..`): an archive cannot write outside the data dir.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { readTar } from "../lib/tar.ts";
import { SQLITE_FILE } from "../storage/open.ts";
import { SCHEMA_VERSION } from "../storage/sqlite/schema.ts";
import { BACKUP_FORMAT, type Manifest } from "./backup.ts";
import { syncDir, writeAll } from "../lib/files.ts";
import { concatBytes } from "../lib/bytes.ts";
import { importTable, openForRestore } from "./backup_pg.ts";
import type { Db } from "../storage/postgres/rows.ts";

/** A restore refused before anything was written (the CLI exits 2). */
export class RestoreRefused extends Error {}

function target(dataDir: string, name: string): string {
  if (name === "denomail.db") return join(dataDir, SQLITE_FILE);
  const rel = name.startsWith("files/") ? normalize(name.slice(6)) : "";
  if (!rel || rel.startsWith("..") || rel.startsWith("/") || rel.includes("\0")) {
    throw new Error(`restore: the archive has an entry named ${JSON.stringify(name)}`);
  }
  return join(dataDir, rel);
}

/** Checks that `dataDir` is missing or empty; returns whether it existed. */
export function checkEmpty(dataDir: string): boolean {
  if (!existsSync(dataDir)) return false;
  const stat = Deno.statSync(dataDir);
  if (!stat.isDirectory) throw new RestoreRefused(`restore: ${dataDir} is not a directory`);
  for (const _ of Deno.readDirSync(dataDir)) {
    throw new RestoreRefused(
      `restore: ${dataDir} is not empty; restore only into an empty data dir`,
    );
  }
  return true;
}

export interface RestoreResult {
  manifest: Manifest;
  files: number;
}

/**
 * Restores `file` into `dataDir` (and, for a PostgreSQL backup, into the empty database at
 * `postgresUrl`).
 */
export async function restoreBackup(
  file: string,
  dataDir: string,
  onProgress: (done: number, total: number) => void = () => {},
  opts: { postgresUrl?: string | null } = {},
): Promise<RestoreResult> {
  const existed = checkEmpty(dataDir);
  let input: Deno.FsFile;
  try {
    input = await Deno.open(file);
  } catch {
    throw new RestoreRefused(`restore: cannot read ${file}`);
  }
  const total = (await input.stat()).size;
  let read = 0;
  const counted = input.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array<ArrayBuffer>>({
      transform(c, ctl) {
        read += c.length;
        onProgress(read, total);
        ctl.enqueue(c as Uint8Array<ArrayBuffer>);
      },
    }),
  ).pipeThrough(new DecompressionStream("gzip"));
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  let pg: Db | null = null;
  try {
    let manifest: Manifest | null = null;
    let next = 0;
    let ended = false;
    const whole = createHash("sha256");
    for await (const e of readTar(counted)) {
      if (ended) throw new Error(`restore: an entry after backup.sha256 (${e.name})`);
      if (manifest === null) {
        if (e.name !== "manifest.json") throw new Error("restore: not a denomail backup");
        const m = await readManifest(e.data, e.size);
        manifest = m.manifest;
        whole.update("manifest.json\0").update(m.bytes);
        if (manifest.backend === "postgres") {
          if (!opts.postgresUrl) {
            throw new RestoreRefused(
              "restore: a PostgreSQL backup needs storage.backend = postgres and storage.url",
            );
          }
          pg = await openForRestore(
            opts.postgresUrl,
            manifest.schema_version,
            (why) => new RestoreRefused(why),
          );
        }
        continue;
      }
      if (e.name === "backup.sha256") {
        let text = "";
        for await (const c of e.data) text += new TextDecoder().decode(c);
        if (next !== manifest.entries.length) throw new Error("restore: the archive is incomplete");
        if (text.trim() !== whole.digest("hex")) {
          throw new Error("restore: the archive's digest does not match its contents");
        }
        ended = true;
        continue;
      }
      const want = manifest.entries[next++];
      if (!want || want.name !== e.name || want.size !== e.size) {
        throw new Error(`restore: ${e.name} is not what the manifest lists`);
      }
      if (e.name.startsWith("pg/")) {
        await restoreTable(pg, e.name, e.data, want.sha256, whole);
        continue;
      }
      const path = target(dataDir, e.name);
      Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const partial = `${path}.partial`;
      written.push(partial, path);
      whole.update(`${e.name}\0`);
      const h = createHash("sha256");
      {
        using f = await Deno.open(partial, { write: true, createNew: true, mode: 0o600 });
        for await (const c of e.data) {
          h.update(c);
          whole.update(c);
          await writeAll(f, c);
        }
        await f.sync();
      }
      if (h.digest("hex") !== want.sha256) {
        throw new Error(`restore: ${e.name} does not match its SHA-256 in the manifest`);
      }
      Deno.renameSync(partial, path);
    }
    if (!manifest || !ended) throw new Error("restore: the archive is truncated");
    await syncDir(dataDir);
    return { manifest, files: manifest.entries.length };
  } catch (e) {
    if (pg && !(e instanceof RestoreRefused)) {
      (e as Error).message +=
        " (the database of storage.url is partly restored: drop it and create it anew)";
    }
    for (const p of written.reverse()) {
      try {
        Deno.removeSync(p);
      } catch { /* not written yet */ }
    }
    cleanDirs(dataDir, existed);
    throw e;
  } finally {
    await pg?.end({ timeout: 5 });
  }
}

/** One `pg/<table>.jsonl` entry into its table; its digest is checked before the commit. */
async function restoreTable(
  pg: Db | null,
  name: string,
  data: AsyncIterable<Uint8Array>,
  sha256: string,
  whole: ReturnType<typeof createHash>,
): Promise<void> {
  const table = name.slice(3, -6);
  if (!pg || !/^[a-z_][a-z0-9_]*$/.test(table) || !name.endsWith(".jsonl")) {
    throw new Error(`restore: the archive has an entry named ${JSON.stringify(name)}`);
  }
  whole.update(`${name}\0`);
  const h = createHash("sha256");
  const hashed = (async function* () {
    for await (const c of data) {
      h.update(c);
      whole.update(c);
      yield c;
    }
  })();
  await importTable(pg, table, hashed, () => {
    if (h.digest("hex") !== sha256) {
      throw new Error(`restore: ${name} does not match its SHA-256 in the manifest`);
    }
  });
}

async function readManifest(
  data: AsyncIterable<Uint8Array>,
  size: number,
): Promise<{ manifest: Manifest; bytes: Uint8Array }> {
  if (size > 16 << 20) throw new Error("restore: the manifest is too large");
  const parts: Uint8Array[] = [];
  for await (const c of data) parts.push(c);
  const bytes = concatBytes(parts, size);
  const m = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
  if (m.format !== BACKUP_FORMAT || !Array.isArray(m.entries)) {
    throw new Error("restore: not a denomail backup");
  }
  if (m.backend !== "postgres" && m.schema_version > SCHEMA_VERSION) {
    throw new RestoreRefused(
      `restore: the backup's schema version ${m.schema_version} is newer than this denomail ` +
        `knows (${SCHEMA_VERSION}); restore it with denomail ${m.denomail_version} or later`,
    );
  }
  return { manifest: m, bytes };
}

/** Removes the (now empty) folders a failed restore made. */
function cleanDirs(dataDir: string, existed: boolean): void {
  const prune = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) if (e.isDirectory) prune(join(dir, e.name));
    if (dir !== dataDir || !existed) {
      try {
        Deno.removeSync(dir);
      } catch { /* not empty: something else is there */ }
    }
  };
  if (existsSync(dataDir)) prune(dataDir);
}
