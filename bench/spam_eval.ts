/**
 * denomail's spam filter trained and run in this process on an in-memory kv, with the
 * plugin's own code (parse, tokenize, learn, scan): what `spam train` and `spam classify`
 * do, without a store or a process per call, so the bench can run every split quickly.
 *
 * @module
 */
import {
  BayesModel,
  GLOBAL,
  type Kv,
  LearnBatch,
  messageKey,
  userScope,
} from "../plugins/builtin/spam/model.ts";
import { type Example, LinearModel } from "../plugins/builtin/spam/linear.ts";
import { readSpamOptions } from "../plugins/builtin/spam/options.ts";
import { parseMail } from "../plugins/builtin/spam/parse.ts";
import {
  finishScan,
  preparedHashes,
  prepareScan,
  tokenHashes,
} from "../plugins/builtin/spam/score.ts";
import { autolearnClass, AutoLearner } from "../plugins/builtin/spam/autolearn.ts";
import { byDate, type Sample } from "./spam_splits.ts";

/** A kv in a Map `m` (what the model needs of the plugin's kv area). */
export function memoryKv(): Kv & { m: Map<string, string> } {
  const m = new Map<string, string>();
  const add = (k: string, by: number) => {
    const v = Number(m.get(k) ?? 0) + by;
    m.set(k, String(v));
    return v;
  };
  return {
    m,
    get: (k) => Promise.resolve(m.get(k) ?? null),
    getMany: (ks) => Promise.resolve(ks.map((k) => m.get(k) ?? null)),
    set: (k, v) => {
      m.set(k, v);
      return Promise.resolve();
    },
    incr: (k, by = 1) => Promise.resolve(add(k, by)),
    incrMany: (es) => Promise.resolve(es.map(([k, by]) => add(k, by))),
    delete: (k) => {
      m.delete(k);
      return Promise.resolve();
    },
  };
}

/** Confusion counts and timings of one filter on one split. */
export interface Outcome {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  trainSecs: number;
  msPerMsg: number;
  /** The ham classified as spam, and the spam let through (paths), for reading. */
  falsePositives: string[];
  falseNegatives: string[];
}

/** Counts verdicts against the truth. */
export function confusion(samples: Sample[], verdicts: boolean[]) {
  const r = {
    tp: 0,
    fp: 0,
    fn: 0,
    tn: 0,
    falsePositives: [] as string[],
    falseNegatives: [] as string[],
  };
  samples.forEach((s, i) => {
    if (s.spam) {
      if (verdicts[i]) r.tp++;
      else {
        r.fn++;
        r.falseNegatives.push(s.path);
      }
    } else if (verdicts[i]) {
      r.fp++;
      r.falsePositives.push(s.path);
    } else r.tn++;
  });
  return r;
}

/** The one user the feedback protocol delivers to (its per-user counts learn). */
const USER = "user@bench.example";

/**
 * Trains on `train`, classifies `test` (with the plugin's default options plus `options`).
 *
 * With `feedback`, `test` is classified oldest first as mail to one user who corrects every
 * mistake at once, as a user moving a message into or out of Junk does: the message is
 * learned into that user's counts (the plugin's mailbox_move with `learn_global = false`)
 * and the next message is scored with the global and the user's counts.
 */
export async function evaluateDenomail(
  train: Sample[],
  test: Sample[],
  options: Record<string, unknown> = {},
  feedback = false,
): Promise<Outcome> {
  const o = readSpamOptions(options);
  const kv = memoryKv();
  const t0 = performance.now();
  const batch = new LearnBatch(kv);
  const examples: Example[] = [];
  for (const s of train) {
    const raw = await Deno.readFile(s.path);
    const hashes = tokenHashes(parseMail(raw, o.maxScanBytes));
    await batch.add(GLOBAL, await messageKey(raw), hashes, s.spam);
    examples.push({ hashes, spam: s.spam });
  }
  await batch.flush();
  const linear = new LinearModel(kv);
  await linear.train(examples);
  const trainSecs = (performance.now() - t0) / 1000;
  const model = new BayesModel(kv);
  // Mail arrives oldest first: a user's corrections and autolearning only help later mail.
  if (feedback || o.autolearn) test = byDate(test);
  const raws = await Promise.all(test.map((s) => Deno.readFile(s.path)));
  const verdicts: boolean[] = [];
  const env = feedback ? { recipients: [USER] } : undefined;
  const learner = new AutoLearner(kv, o.autolearnBatch);
  const t1 = performance.now();
  for (const [i, raw] of raws.entries()) {
    const input = { raw, env };
    const p = await prepareScan(input, { options: o, model, linear });
    const r = finishScan(p, input, o);
    verdicts.push(r.verdict !== "ham");
    const auto = autolearnClass(r, o);
    if (auto !== null) await learner.add(await messageKey(raw), preparedHashes(p), auto);
    if (feedback && verdicts[i] !== test[i].spam) {
      const hashes = tokenHashes(p.m);
      await model.learn(userScope(USER)!, await messageKey(raw), hashes, test[i].spam);
    }
  }
  const msPerMsg = (performance.now() - t1) / Math.max(1, test.length);
  return { ...confusion(test, verdicts), trainSecs, msPerMsg };
}

/** Precision, recall, F1 and the ham false-positive rate of an outcome. */
export function scores(o: { tp: number; fp: number; fn: number; tn: number }) {
  const precision = o.tp / (o.tp + o.fp || 1);
  const recall = o.tp / (o.tp + o.fn || 1);
  const f1 = precision + recall === 0 ? 0 : 2 * precision * recall / (precision + recall);
  return { precision, recall, f1, fpRate: o.fp / (o.fp + o.tn || 1) };
}
