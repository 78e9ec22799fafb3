import assert from "node:assert/strict";
import { LinearModel } from "./linear.ts";
import { HAPAX_TTL_MS, type Kv, LearnBatch } from "./model.ts";

/** A kv in a Map that remembers each key's expiry (what the store does with ttlMs). */
function recordingKv() {
  const values = new Map<string, string>();
  const ttl = new Map<string, number | undefined>();
  let maxKeys = Infinity;
  /** Adds `by` to `k`; null when `k` is new and the area is full. */
  const add = (k: string, by: number, t?: number): number | null => {
    if (!values.has(k)) {
      if (values.size >= maxKeys) return null;
      ttl.set(k, t); // an existing key keeps its expiry, as the store does
    }
    const v = Number(values.get(k) ?? 0) + by;
    values.set(k, String(v));
    return v;
  };
  const kv: Kv = {
    get: (k) => Promise.resolve(values.get(k) ?? null),
    getMany: (ks) => Promise.resolve(ks.map((k) => values.get(k) ?? null)),
    set: (k, v, t) => {
      values.set(k, v);
      ttl.set(k, t);
      return Promise.resolve();
    },
    incr: (k, by = 1, t) => {
      const v = add(k, by, t);
      return v === null
        ? Promise.reject(new Error(`kv_max_keys (${maxKeys})`))
        : Promise.resolve(v);
    },
    // A full area refuses new keys only (null), as the store's kvIncrMany does.
    incrMany: (es, t) => Promise.resolve(es.map(([k, by]) => add(k, by, t))),
    delete: (k) => {
      values.delete(k);
      return Promise.resolve();
    },
  };
  return { kv, values, ttl, limit: (n: number) => maxKeys = n };
}

const spamTokens = (i: number) => ["cheap", "pills", "offer", `s${i}`];
const hamTokens = (i: number) => ["meeting", "patch", "review", `h${i}`];

Deno.test("linear model: learns a batch, separates the classes, learns online", async () => {
  const { kv } = recordingKv();
  const model = new LinearModel(kv);
  assert.equal(await model.probability(["cheap"]), null, "nothing learned: no opinion");
  const examples = [];
  for (let i = 0; i < 20; i++) examples.push({ hashes: spamTokens(i), spam: true });
  for (let i = 0; i < 60; i++) examples.push({ hashes: hamTokens(i), spam: false });
  await model.train(examples);
  const spamP = (await model.probability(["cheap", "pills", "unseen"]))!;
  const hamP = (await model.probability(["meeting", "review", "unseen"]))!;
  assert.ok(spamP > 0.8, `spam ${spamP}`);
  assert.ok(hamP < 0.2, `ham ${hamP}`);
  // A message moved to Junk: one step toward spam for its tokens; a fresh reader (another
  // plugin process) and this one (its cache dropped by gen:w) both see it.
  const before = (await model.probability(["meeting", "patch"]))!;
  for (let i = 0; i < 5; i++) await model.learn({ hashes: ["meeting", "patch"], spam: true });
  const after = (await model.probability(["meeting", "patch"]))!;
  assert.ok(after > before, `${before} -> ${after}`);
  assert.equal(await new LinearModel(kv).probability(["meeting", "patch"]), after);
});

Deno.test("Bayes counts: a token of one message expires, a second message keeps it", async () => {
  const { kv, ttl, values, limit } = recordingKv();
  const batch = new LearnBatch(kv);
  await batch.add("g", "m1", ["aaa", "bbb"], true);
  await batch.flush();
  assert.equal(ttl.get("t:g:aaa"), HAPAX_TTL_MS);
  await batch.add("g", "m2", ["aaa"], true);
  await batch.flush();
  assert.equal(ttl.get("t:g:aaa"), undefined, "seen twice: kept for good");
  assert.equal(ttl.get("t:g:bbb"), HAPAX_TTL_MS);
  // A full kv area: new tokens are skipped, known ones still count, learning goes on.
  limit(values.size);
  await batch.add("g", "m3", ["aaa", "new"], true);
  await batch.flush();
  assert.equal(batch.skipped, 1);
  assert.equal(values.has("t:g:new"), false);
  assert.equal(values.get("t:g:aaa"), String(3 * 2 ** 26));
});
