/**
 * MODELS_ALONE (score.ts requiredScore): a message that only Bayes and LINEAR score toward
 * spam (no other rule above 0) needs junk_score + models_alone_margin; one that another rule
 * or an earlier plugin gave points to is junk from junk_score as before.
 */
import assert from "node:assert/strict";
import { finishScan, type PreparedScan, prepareScan } from "./score.ts";
import { readSpamOptions } from "./options.ts";
import { spamHeaders } from "./status.ts";

const fixture = (path: string) =>
  Deno.readFileSync(new URL(`../../../tests/fixtures/spam/${path}`, import.meta.url));

/** A real message scanned without models, then given the models' opinion `bayes`/`linear`. */
async function prepared(path: string, bayes: number, linear: number): Promise<PreparedScan> {
  const raw = fixture(path);
  const p = await prepareScan({ raw }, { options: readSpamOptions({}), model: null });
  return { ...p, bayes, linear };
}

const ruleSum = (p: PreparedScan) => p.hits.reduce((n, h) => n + Math.max(0, h.score), 0);
const names = (r: { hits: { name: string }[] }) => r.hits.map((h) => h.name);

Deno.test("models alone: a ham the models put at 5.6 stays in the inbox, and says why", async () => {
  const p = await prepared("ham/01.eml", 0.97, 0.6); // BAYES_95 5.0, LINEAR 0.6
  assert.equal(ruleSum(p), 0, "no rule scores the ham above 0");
  const o = readSpamOptions({});
  const r = finishScan(p, {}, o);
  assert.equal(r.score, 5.6);
  assert.equal(r.required, 6.5);
  assert.equal(r.verdict, "ham");
  assert.ok(names(r).includes("MODELS_ALONE"));
  const status = spamHeaders(r.score, r.required, r.hits, r.bayes, r.linear)[1][1];
  assert.match(status, /^No, score=5\.6 required=6\.5 tests=.*MODELS_ALONE/);
  // The margin is the admin's: 0 gives the plain junk_score back.
  const plain = finishScan(p, {}, readSpamOptions({ models_alone_margin: 0 }));
  assert.equal(plain.verdict, "junk");
  assert.equal(plain.required, 5);
  assert.ok(!names(plain).includes("MODELS_ALONE"));
});

Deno.test("models alone: sure models still junk a message at junk_score + margin", async () => {
  const r = finishScan(await prepared("ham/01.eml", 0.9995, 0.9), {}, readSpamOptions({}));
  assert.equal(r.score, 8.4); // BAYES_999 6.0, LINEAR 2.4
  assert.equal(r.verdict, "junk");
  assert.ok(names(r).includes("MODELS_ALONE"));
});

Deno.test("models alone: other rules' points, or an earlier plugin's, keep junk_score", async () => {
  const p = await prepared("rules/sales_pressure.eml", 0.7, 0.6); // BAYES_60 3.0, LINEAR 0.6
  assert.ok(ruleSum(p) >= 1.5, `SALES_PRESSURE and others: ${ruleSum(p)}`);
  const r = finishScan(p, {}, readSpamOptions({}));
  assert.equal(r.required, 5);
  assert.equal(r.verdict, "junk");
  assert.ok(!names(r).includes("MODELS_ALONE"));
  // A ham the models put at 5.6 and an earlier plugin scored 0.5: junk at 5, as before.
  const ham = await prepared("ham/01.eml", 0.97, 0.6);
  const withEarlier = finishScan(ham, { extraScore: 0.5 }, readSpamOptions({}));
  assert.equal(withEarlier.required, 5);
  assert.equal(withEarlier.verdict, "junk");
  // Ham evidence does not make the models alone: a bulk sender with its own bounce
  // handling (-3) whose message also hides text (+0.5) is judged from junk_score.
  const bulk = { ...ham, bayes: 0.9995, linear: 0.99 };
  bulk.hits = [...bulk.hits, { name: "SENDER_TRACKS_BOUNCES", score: -3 }, {
    name: "HTML_HIDDEN_TEXT",
    score: 0.5,
  }];
  const b = finishScan(bulk, {}, readSpamOptions({}));
  assert.equal(b.score, 6.4);
  assert.equal(b.required, 5);
  assert.equal(b.verdict, "junk");
  // Below junk_score nothing is said.
  const low = finishScan(await prepared("ham/01.eml", 0.7, 0.5), {}, readSpamOptions({}));
  assert.equal(low.verdict, "ham");
  assert.ok(!names(low).includes("MODELS_ALONE"));
});

Deno.test("models alone: a negative models_alone_margin is refused, naming the key", () => {
  assert.throws(() => readSpamOptions({ models_alone_margin: -1 }), /models_alone_margin/);
});
