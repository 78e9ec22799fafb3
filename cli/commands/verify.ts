/**
 * `verify [--repair]`: checks the store (storage/sqlite/verify.ts) — blobs and their digests,
 * mailbox counters, UIDNEXT, HIGHESTMODSEQ, the full-text index, the queue's blobs — and
 * prints one line per problem; exit 1 when anything is wrong. `--repair` fixes what can be
 * fixed without losing mail, says what it did, then checks again. Safe on a live server.
 * SQLite: storage/sqlite/verify.ts; PostgreSQL: storage/postgres/verify.ts.
 *
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { Progress } from "../progress.ts";
import { SQLITE_FILE } from "../../storage/open.ts";
import { verifyDatabase, type VerifyOptions } from "../../storage/sqlite/verify.ts";
import { verifyPostgres } from "../../storage/postgres/verify.ts";

export const usage = "verify [--repair]";

export async function run(ctx: CliContext): Promise<void> {
  if (ctx.args.positional.length) {
    throw new UsageError(`verify: unexpected argument ${ctx.args.positional[0]}`);
  }
  const config = await ctx.config();
  const path = join(config.dataDir, SQLITE_FILE);
  const pg = config.storage.backend === "postgres";
  if (!pg && !existsSync(path)) throw new UsageError(`verify: no database at ${path}`);
  const check = (o: VerifyOptions) =>
    pg ? verifyPostgres(config.storage.url!, o) : Promise.resolve(verifyDatabase(path, o));
  const repair = ctx.args.booleans.has("--repair");
  let bar: Progress | null = null;
  const r = await check({
    repair,
    onProblem: (line) => ctx.print(`problem: ${line}`),
    onRepair: (line) => ctx.print(`repaired: ${line}`),
    onProgress: (done, total) => {
      bar ??= new Progress("verify", total);
      bar.update(done, done);
    },
  });
  (bar as Progress | null)?.end();
  const c = r.checked;
  const what = `${c.mailboxes} mailboxes, ${c.messages} messages, ${c.blobs} blobs, ` +
    `${c.queue} queue entries`;
  if (r.problems === 0) {
    ctx.print(`ok: ${what}`);
    return;
  }
  if (!repair) {
    throw new Error(
      `verify: ${r.problems} problems in ${what}` +
        (r.problems > r.unrepairable
          ? ` (${r.problems - r.unrepairable} repairable with --repair)`
          : ""),
    );
  }
  const again = await check({
    onProblem: (line) => ctx.print(`still: ${line}`),
  });
  ctx.print(`repaired ${r.repaired}; ${again.problems} problems remain`);
  if (again.problems > 0) throw new Error(`verify: ${again.problems} problems remain`);
}
