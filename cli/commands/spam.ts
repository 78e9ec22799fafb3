/**
 * `spam train --spam PATH --ham PATH [--user EMAIL]` and `spam classify FILE... [--json]`.
 *
 * Both use the spam plugin's own code (plugins/builtin/spam) and its kv area in the store
 * (namespace `plugin:<name>` of the configured `builtin:spam` plugin, "spam" when none is
 * configured), so what `train` learns is what the running server classifies with, and
 * `classify` scores like the server minus what needs the SMTP session (envelope, HELO,
 * client IP, DNS block lists, the auth plugin's results).
 *
 * PATH is a Maildir, an mbox file, a folder of .eml/.txt files, or one message file.
 * Training shows a progress bar on a TTY (stderr) and prints one summary line.
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import type { Config } from "../../core/config.ts";
import { kvNamespace } from "../../plugins/engine/services.ts";
import type { Store } from "../../storage/mod.ts";
import {
  BayesModel,
  GLOBAL,
  type Kv,
  LearnBatch,
  messageKey,
  userScope,
} from "../../plugins/builtin/spam/model.ts";
import { type Example, LinearModel } from "../../plugins/builtin/spam/linear.ts";
import { readSpamOptions, type SpamOptions } from "../../plugins/builtin/spam/options.ts";
import { parseMail } from "../../plugins/builtin/spam/parse.ts";
import { scanMessage, tokenHashes } from "../../plugins/builtin/spam/score.ts";
import { explain, formatScore } from "../../plugins/builtin/spam/status.ts";
import { type CorpusPlan, planCorpus, readCorpus } from "../../core/mailfiles.ts";
import { Progress } from "../progress.ts";

export const usage =
  "spam train --spam PATH --ham PATH [--user EMAIL] | spam classify FILE... [--json] [--user EMAIL]";

/** Messages learned between two writes of the counts. */
const FLUSH_EVERY = 1000;

/** The configured spam plugin (name and options), or the defaults when none is. */
export function spamPluginConfig(config: Config): { name: string; options: SpamOptions } {
  const p = config.plugins.find((x) => x.module === "builtin:spam") ??
    config.plugins.find((x) => x.name === "spam");
  try {
    return { name: p?.name ?? "spam", options: readSpamOptions(p?.options ?? {}) };
  } catch (e) {
    throw new UsageError(`plugin ${p?.name}: ${(e as Error).message}`);
  }
}

/** The store's kv area of a plugin, as the model's Kv. */
export function storeKv(store: Store, plugin: string): Kv {
  const ns = kvNamespace(plugin);
  return {
    get: (k) => store.kvGet(ns, k),
    getMany: (ks) =>
      store.kvGetMany ? store.kvGetMany(ns, ks) : Promise.all(ks.map((k) => store.kvGet(ns, k))),
    set: (k, v, ttl) => store.kvSet(ns, k, v, ttl),
    incr: (k, by = 1, ttl) => store.kvIncr(ns, k, by, ttl),
    incrMany: (es, ttl) => store.kvIncrMany(ns, es, ttl),
    delete: (k) => store.kvDelete(ns, k),
  };
}

async function plan(path: string, flag: string): Promise<CorpusPlan> {
  try {
    return await planCorpus(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`${flag}: no such file ${path}`);
    throw e;
  }
}

async function train(ctx: CliContext): Promise<void> {
  const spamPath = ctx.args.values.get("--spam");
  const hamPath = ctx.args.values.get("--ham");
  if (!spamPath && !hamPath) throw new UsageError("spam train: give --spam PATH and/or --ham PATH");
  if (ctx.args.positional.length > 1) {
    throw new UsageError(`unexpected argument ${ctx.args.positional[1]}`);
  }
  const plans: Array<[CorpusPlan, boolean]> = [];
  if (spamPath) plans.push([await plan(spamPath, "--spam"), true]);
  if (hamPath) plans.push([await plan(hamPath, "--ham"), false]);
  const config = await ctx.config();
  const { name, options } = spamPluginConfig(config);
  const store = await ctx.store();
  const user = ctx.args.values.get("--user");
  if (user !== undefined && !(await store.getAccount(user))) {
    throw new UsageError(`--user: no such user ${user}`);
  }
  const scope = user ? userScope(user)! : GLOBAL;
  const kv = storeKv(store, name);
  const batch = new LearnBatch(kv);
  const counts = { spam: 0, ham: 0, already: 0, relearned: 0 };
  // The linear model is global (linear.ts): it learns the messages new to the global counts.
  const examples: Example[] = [];
  const progress = new Progress("learning", plans.reduce((n, [p]) => n + p.bytes, 0));
  let done = 0, seen = 0;
  for (const [p, spam] of plans) {
    for await (const m of readCorpus(p)) {
      const hashes = tokenHashes(parseMail(m.bytes, options.maxScanBytes));
      const outcome = await batch.add(scope, await messageKey(m.bytes), hashes, spam);
      if (outcome === "already") counts.already++;
      else {
        if (scope === GLOBAL) examples.push({ hashes, spam });
        counts[spam ? "spam" : "ham"]++;
        if (outcome === "relearned") counts.relearned++;
      }
      done += m.bytes.length;
      if (++seen % FLUSH_EVERY === 0) await batch.flush();
      progress.update(done, seen);
    }
  }
  await batch.flush();
  await new LinearModel(kv).train(examples);
  progress.update(progress.total, seen);
  progress.end();
  const totals = await new BayesModel(kv).totals(scope);
  ctx.print(
    `learned ${counts.spam} spam and ${counts.ham} ham` +
      (counts.relearned ? ` (${counts.relearned} moved to the other class)` : "") +
      (counts.already ? `, ${counts.already} already known` : "") +
      ` into ${user ? user : "the global counts"}; ` +
      `now ${totals.spam} spam and ${totals.ham} ham`,
  );
}

async function classify(ctx: CliContext): Promise<void> {
  const files = ctx.args.positional.slice(1);
  if (files.length === 0) throw new UsageError("spam classify: give at least one FILE");
  const json = ctx.args.booleans.has("--json");
  const user = ctx.args.values.get("--user");
  const config = await ctx.config();
  const { name, options } = spamPluginConfig(config);
  const kv = storeKv(await ctx.store(), name);
  const model = new BayesModel(kv);
  const linear = new LinearModel(kv);
  let failed = 0;
  for (const file of files) {
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(file);
    } catch (e) {
      // One unreadable file does not stop the others; the exit code says something failed.
      console.error(`denomail: ${file}: ${(e as Error).message}`);
      failed++;
      continue;
    }
    const r = await scanMessage({ raw, env: user ? { recipients: [user] } : undefined }, {
      options,
      model,
      linear,
      listsKv: kv,
    });
    const verdict = r.verdict === "ham" ? "ham" : "spam";
    const rules = [...new Set(r.hits.map((h) => h.name))].sort();
    ctx.print(
      json
        ? JSON.stringify({
          file,
          score: r.score,
          required: r.required,
          verdict,
          rules,
          bayes: r.bayes,
          linear: r.linear,
          report: explain(r.hits),
        })
        : `${file}\t${formatScore(r.score)}\t${verdict}\t${rules.join(",")}`,
    );
  }
  if (failed > 0) throw new Error(`${failed} file(s) could not be read`);
}

export async function run(ctx: CliContext): Promise<void> {
  const sub = ctx.args.positional[0];
  switch (sub) {
    case "train":
      return await train(ctx);
    case "classify":
      return await classify(ctx);
    default:
      throw new UsageError(`spam: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
