/**
 * `backup --out FILE` (app/backup.ts) and `restore FILE [--data-dir D]` (app/restore.ts).
 * Backup runs beside a live server, restore before it starts; both show a progress bar on a
 * TTY. On PostgreSQL the tables are exported logically (app/backup_pg.ts) and restored into
 * an empty database (`storage.url` of the config), then verified like a SQLite restore.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { Progress } from "../progress.ts";
import { createBackup } from "../../app/backup.ts";
import { restoreBackup, RestoreRefused } from "../../app/restore.ts";
import { SQLITE_FILE } from "../../storage/open.ts";
import { join } from "node:path";
import { SCHEMA_VERSION } from "../../storage/sqlite/schema.ts";
import { verifyDatabase } from "../../storage/sqlite/verify.ts";
import { verifyPostgres } from "../../storage/postgres/verify.ts";

export const backupUsage = "backup --out FILE";
export const restoreUsage = "restore FILE [--data-dir DIR]";

/** A progress bar made when the total is first known. */
function bar(label: string): { update(d: number, t: number): void; end(): void } {
  let p: Progress | null = null;
  return {
    update(done, total) {
      p ??= new Progress(label, total, "MB");
      p.update(done, Math.round(done / 1e6));
    },
    end: () => p?.end(),
  };
}

export async function backup(ctx: CliContext): Promise<void> {
  if (ctx.args.positional.length) {
    throw new UsageError(`backup: unexpected argument ${ctx.args.positional[0]}`);
  }
  const out = ctx.args.values.get("--out");
  if (!out) throw new UsageError("backup: --out FILE is required");
  const config = await ctx.config();
  if (existsSync(out)) throw new UsageError(`--out: ${out} already exists; not overwriting it`);
  if (config.storage.backend === "sqlite" && !existsSync(join(config.dataDir, SQLITE_FILE))) {
    throw new UsageError(`backup: no database in ${config.dataDir}`);
  }
  const b = bar("backup");
  const r = await createBackup(config, resolve(out), b.update);
  b.end();
  const c = r.manifest.counts;
  ctx.print(
    `backup: ${out} (${r.bytes} bytes): schema ${r.manifest.schema_version}, ${c.users} users, ` +
      `${c.mailboxes} mailboxes, ${c.messages} messages, ${c.queue} queued, ` +
      `${r.manifest.entries.length} files`,
  );
}

export async function restore(ctx: CliContext): Promise<void> {
  const [file, ...extra] = ctx.args.positional;
  if (!file) throw new UsageError("restore: FILE is required");
  if (extra.length) throw new UsageError(`restore: unexpected argument ${extra[0]}`);
  const given = ctx.args.values.get("--data-dir");
  const config = await ctx.config();
  const dataDir = given ? resolve(given) : config.dataDir;
  const postgresUrl = config.storage.backend === "postgres" ? config.storage.url : null;
  const b = bar("restore");
  let r;
  try {
    r = await restoreBackup(file, dataDir, b.update, { postgresUrl });
  } catch (e) {
    if (e instanceof RestoreRefused) throw new UsageError(e.message);
    throw e;
  } finally {
    b.end();
  }
  const c = r.manifest.counts;
  ctx.print(
    `restore: ${r.files} files into ${dataDir}: schema ${r.manifest.schema_version}, ` +
      `${c.users} users, ${c.messages} messages (every digest checked)`,
  );
  if (r.manifest.backend === "postgres") {
    const v = await verifyPostgres(postgresUrl!, {
      onProblem: (line) => ctx.print(`problem: ${line}`),
    });
    if (v.problems > 0) throw new Error(`restore: verify found ${v.problems} problems`);
    ctx.print(`verify: ok (${v.checked.messages} messages, ${v.checked.blobs} blobs)`);
    return;
  }
  if (r.manifest.schema_version < SCHEMA_VERSION) {
    ctx.print(`restore: schema ${r.manifest.schema_version} migrates at the first start`);
    return;
  }
  const v = verifyDatabase(join(dataDir, SQLITE_FILE), {
    onProblem: (line) => ctx.print(`problem: ${line}`),
  });
  if (v.problems > 0) throw new Error(`restore: verify found ${v.problems} problems`);
  ctx.print(`verify: ok (${v.checked.messages} messages, ${v.checked.blobs} blobs)`);
}
