/**
 * A second opinion beside Bayes: logistic regression over the same token hashes, trained
 * online by stochastic gradient descent (as Stalwart and OSBF-style filters do). Bayes
 * weighs each token on its own; the linear model learns weights together, so tokens that
 * always travel with others (a mailing list's footer) do not count many times over, and
 * it keeps more of its judgement on spam of a later month (bench/spam.ts, time split).
 *
 * Key layout in the plugin's kv area, beside the Bayes keys (model.ts):
 *
 * | key          | value                                                    |
 * | ------------ | -------------------------------------------------------- |
 * | `w:<hash>`   | the token's weight (a decimal string); absent = 0          |
 * | `w:bias`     | the intercept                                             |
 * | `w:n`        | spam × 2^26 + ham: examples learned (for class weighting) |
 * | `gen:w`      | bumped after every learning: cache invalidation           |
 *
 * Global only: per-user judgement stays with the per-user Bayes counts.
 *
 * @module
 */
import { type Kv, pack, unpack } from "./model.ts";

/** Passes over a training batch (the CLI); online learning takes one step. */
export const EPOCHS = 5;
const RATE = 0.1;
const L2 = 1e-5;
/** Examples kept for the passes of one batch; older ones of a bigger batch get one pass. */
const MAX_BATCH = 20_000;

const KEY_BIAS = "w:bias";
const KEY_COUNTS = "w:n";
const KEY_GEN = "gen:w";
const weightKey = (hash: string) => `w:${hash}`;

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** One training example: a message's token hashes and its class. */
export interface Example {
  hashes: string[];
  spam: boolean;
}

/** Weights in memory while learning or classifying. */
class Weights {
  map = new Map<string, number>();
  bias = 0;
  counts = { spam: 0, ham: 0 };

  score(hashes: string[]): number {
    let z = this.bias;
    for (const h of hashes) z += this.map.get(h) ?? 0;
    return z;
  }

  /** One gradient step on one example. */
  step(e: Example): void {
    const g = sigmoid(this.score(e.hashes)) - (e.spam ? 1 : 0);
    // Class weighting: spam is the rarer class in most mail, so its mistakes weigh more.
    const { spam, ham } = this.counts;
    const w = e.spam && spam > 0 && ham > 0 ? ham / spam : 1;
    const delta = RATE * g * w / Math.sqrt(Math.max(1, e.hashes.length));
    for (const h of e.hashes) {
      const v = this.map.get(h) ?? 0;
      this.map.set(h, v - delta - L2 * v);
    }
    this.bias -= RATE * g * w * 0.1;
  }
}

function parseWeight(v: string | null): number {
  const n = v === null ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** Reads, caches and trains the global linear model. */
export class LinearModel {
  readonly kv: Kv;
  #gen: string | null | undefined = undefined;
  #cache = new Weights();
  #maxCached: number;

  constructor(kv: Kv, opts: { maxCached?: number } = {}) {
    this.kv = kv;
    this.#maxCached = opts.maxCached ?? 500_000;
  }

  async #getMany(keys: string[]): Promise<(string | null)[]> {
    const kv = this.kv;
    if (!kv.getMany) return await Promise.all(keys.map((k) => kv.get(k)));
    const out: (string | null)[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      out.push(...await kv.getMany(keys.slice(i, i + 1000)));
    }
    return out;
  }

  /** Loads the weights of `hashes` the cache lacks (dropping it when someone learned). */
  async #load(hashes: string[], into?: Weights): Promise<Weights> {
    const w = into ?? this.#cache;
    if (!into && w.map.size > this.#maxCached) this.#gen = undefined;
    const missing = [...new Set(hashes)].filter((h) => !w.map.has(h));
    const keys = [KEY_GEN, KEY_BIAS, KEY_COUNTS, ...missing.map(weightKey)];
    const values = await this.#getMany(keys);
    if (!into && values[0] !== this.#gen) {
      // Someone learned: start over (one more round trip for every token).
      this.#gen = values[0];
      this.#cache = new Weights();
      return await this.#load(hashes);
    }
    w.bias = parseWeight(values[1]);
    w.counts = unpack(values[2]);
    missing.forEach((h, i) => w.map.set(h, parseWeight(values[3 + i])));
    return w;
  }

  /** The spam probability of a message, or null when the model has learned nothing. */
  async probability(hashes: string[]): Promise<number | null> {
    const w = await this.#load(hashes);
    if (w.counts.spam === 0 || w.counts.ham === 0) return null;
    return sigmoid(w.score(hashes));
  }

  /**
   * Learns a batch: `EPOCHS` passes in a fixed shuffled order (the last MAX_BATCH examples;
   * earlier ones of a bigger batch get one pass first), then writes the weights it moved.
   */
  async train(examples: Example[]): Promise<void> {
    if (examples.length === 0) return;
    const w = new Weights();
    await this.#load(examples.flatMap((e) => e.hashes), w);
    for (const e of examples) {
      if (e.spam) w.counts.spam++;
      else w.counts.ham++;
    }
    const head = examples.slice(0, Math.max(0, examples.length - MAX_BATCH));
    const tail = examples.slice(head.length);
    for (const e of head) w.step(e);
    const order = tail.map((_, i) => i);
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      shuffle(order, epoch + 1);
      for (const i of order) w.step(tail[i]);
    }
    await this.#save(w);
  }

  /** One online step for one message (a user moved it into or out of Junk). */
  learn(example: Example): Promise<void> {
    // One at a time: each step reads weights, then writes them (as BayesModel.learn).
    const run = this.#learning.then(() => this.#learnOne(example));
    this.#learning = run.catch(() => {});
    return run;
  }

  #learning: Promise<unknown> = Promise.resolve();

  async #learnOne(example: Example): Promise<void> {
    const w = new Weights();
    await this.#load(example.hashes, w);
    if (example.spam) w.counts.spam++;
    else w.counts.ham++;
    w.step(example);
    await this.#save(w);
  }

  async #save(w: Weights): Promise<void> {
    const entries = [...w.map].filter(([, v]) => v !== 0);
    const CHUNK = 4096;
    for (let i = 0; i < entries.length; i += CHUNK) {
      await Promise.all(
        entries.slice(i, i + CHUNK).map(([h, v]) => this.kv.set(weightKey(h), v.toPrecision(6))),
      );
    }
    await this.kv.set(KEY_BIAS, w.bias.toPrecision(6));
    await this.kv.set(KEY_COUNTS, String(pack(w.counts)));
    await this.kv.incr(KEY_GEN, 1);
  }
}

/** A deterministic Fisher–Yates shuffle (so training gives the same model every run). */
function shuffle(a: number[], seed: number): void {
  let s = seed * 2654435761 >>> 0;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
}
