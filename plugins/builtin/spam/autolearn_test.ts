/**
 * Autolearn's choice (only the ends of the score range, list rules left out, spam only with
 * evidence beyond the learned models) and its batching.
 */
import assert from "node:assert/strict";
import { autolearnClass, AutoLearner, MAX_PENDING_MS } from "./autolearn.ts";
import { GLOBAL, keys, unpack } from "./model.ts";
import { memoryKv } from "../../../bench/spam_eval.ts";
import { readSpamOptions } from "./options.ts";
import type { ScanResult } from "./score.ts";
import type { RuleHit } from "./rules/table.ts";

function result(hits: RuleHit[], bayes: number | null = 0.999): ScanResult {
  const score = hits.reduce((n, h) => n + h.score, 0);
  return {
    score,
    own: score,
    hits,
    bayes,
    linear: null,
    required: 5,
    verdict: score >= 5 ? "junk" : "ham",
  };
}

const sure = [
  { name: "BAYES_999", score: 6 },
  { name: "LINEAR", score: 2.8 },
  { name: "FORGED_OUTLOOK_MID", score: 2 },
];

Deno.test("autolearn: which messages are learned", () => {
  const o = readSpamOptions({});
  assert.equal(o.autolearn, true);
  assert.equal(autolearnClass(result(sure), o), true);
  // Bayes and LINEAR alone (a newsletter Bayes is sure of) are not enough.
  assert.equal(
    autolearnClass(result([...sure.slice(0, 2), { name: "HTML_ONLY", score: 0.7 }]), o),
    null,
  );
  // Rule points under 2 beside sure models (a newsletter with HTML_ONLY and a hidden
  // text) are not enough either; 2 are.
  const html = [{ name: "HTML_ONLY", score: 0.7 }, { name: "HTML_HIDDEN_TEXT", score: 0.5 }];
  assert.equal(autolearnClass(result([...sure.slice(0, 2), ...html]), o), null);
  assert.equal(
    autolearnClass(result([...sure.slice(0, 2), ...html, { name: "MISSING_MID", score: 0.8 }]), o),
    true,
  );
  // Near the threshold: nothing.
  assert.equal(autolearnClass(result([{ name: "BAYES_99", score: 5.5 }, sure[2]]), o), null);
  // A block list entry decides the verdict but does not count toward learning.
  assert.equal(
    autolearnClass(result([{ name: "BLOCKLIST_FROM", score: 100 }, sure[2]]), o),
    null,
  );
  // Ham is not learned unless asked; then up to its score, allow lists left out.
  const ham = [{ name: "BAYES_00", score: -2 }, { name: "LINEAR", score: -3 }];
  assert.equal(autolearnClass(result(ham), o), null);
  const withHam = readSpamOptions({ autolearn_ham_score: -4 });
  assert.equal(autolearnClass(result(ham), withHam), false);
  assert.equal(
    autolearnClass(result([{ name: "ALLOWLIST_FROM", score: -100 }]), withHam),
    null,
  );
  // Off, or Bayes not in use yet: nothing.
  assert.equal(autolearnClass(result(sure), readSpamOptions({ autolearn: false })), null);
  assert.equal(autolearnClass(result(sure, null), o), null);
});

Deno.test("autolearn: thresholds must stay away from junk_score", () => {
  assert.throws(() => readSpamOptions({ autolearn_spam_score: 5 }), /autolearn_spam_score/);
  assert.throws(() => readSpamOptions({ autolearn_ham_score: 6 }), /autolearn_ham_score/);
  assert.throws(() => readSpamOptions({ autolearn: "yes" }), /autolearn/);
});

Deno.test("autolearn: batches, a late batch, and what was learned before", async () => {
  const kv = memoryKv();
  let now = 0;
  const learner = new AutoLearner(kv, 3, () => now);
  await learner.add("m1", ["a", "b"], true);
  await learner.add("m2", ["a"], true);
  assert.equal(kv.m.get(keys.totals(GLOBAL)), undefined, "not written before the batch is full");
  await learner.add("m3", ["c"], true);
  assert.deepEqual(unpack(kv.m.get(keys.totals(GLOBAL))!), { spam: 3, ham: 0 });
  assert.deepEqual(unpack(kv.m.get(keys.token(GLOBAL, "a"))!), { spam: 2, ham: 0 });
  // A lone message is written with the next one after MAX_PENDING_MS.
  await learner.add("m4", ["d"], true);
  assert.equal(learner.pending, 1);
  now += MAX_PENDING_MS;
  // m1 again (as ham): a message the global counts hold already is left alone.
  await learner.add("m1", ["a", "b"], false);
  assert.equal(learner.pending, 0);
  assert.deepEqual(unpack(kv.m.get(keys.totals(GLOBAL))!), { spam: 4, ham: 0 });
  assert.equal(kv.m.get(keys.learned(GLOBAL, "m1"))?.[0], "s");
});
