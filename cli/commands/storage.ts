/**
 * `storage migrate --to postgres://USER[:PASS]@HOST[:PORT]/DB`: copies this config's SQLite
 * data dir (`data_dir/denomail.db`) into an empty PostgreSQL database, resumably (run it again
 * after an interruption: it goes on where it stopped), and verifies counts and digests at the
 * end (storage/migrate/). Stop the server first. Afterwards set `[storage] backend =
 * "postgres"` and `url` (README "PostgreSQL").
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { SQLITE_FILE } from "../../storage/open.ts";
import { migrateSqliteToPostgres } from "../../storage/migrate/to_postgres.ts";

export const usage = "storage migrate --to postgres://USER[:PASS]@HOST[:PORT]/DB";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, ...extra] = ctx.args.positional;
  if (sub !== "migrate") throw new UsageError(`storage: unknown subcommand ${sub ?? "(none)"}`);
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const to = ctx.args.values.get("--to");
  if (!to || !/^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(to)) {
    throw new UsageError("--to must be postgres://USER[:PASS]@HOST[:PORT]/DB");
  }
  const config = await ctx.config();
  const path = join(config.dataDir, SQLITE_FILE);
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`no SQLite database at ${path}`);
  }
  let shown = "";
  const checks = await migrateSqliteToPostgres(path, to, (table, copied, total) => {
    const line = `${table}: ${copied}/${total}`;
    if (line !== shown) console.error(line);
    shown = line;
  });
  for (const c of checks) ctx.print(`ok  ${c.what}: ${c.target}`);
  console.error(`copied and verified: set [storage] backend = "postgres" and url to use it`);
}
