/** Bayes learning: a message counts once however many times (and however concurrently) it is learned. */
import assert from "node:assert/strict";
import { BayesModel, GLOBAL, type Kv } from "./model.ts";

/** An in-memory kv whose every call yields to the event loop first, as the real one does. */
function slowKv(): Kv & { data: Map<string, string> } {
  const data = new Map<string, string>();
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return {
    data,
    async get(k) {
      await tick();
      return data.get(k) ?? null;
    },
    async set(k, v) {
      await tick();
      data.set(k, v);
    },
    async incr(k, by = 1) {
      await tick();
      const n = Number(data.get(k) ?? 0) + by;
      data.set(k, String(n));
      return n;
    },
    async incrMany(es) {
      const out: number[] = [];
      for (const [k, by] of es) out.push(await this.incr(k, by));
      return out;
    },
    async delete(k) {
      await tick();
      data.delete(k);
    },
  };
}

Deno.test("bayes learning: concurrent learns of one message count it once", async () => {
  const kv = slowKv();
  const model = new BayesModel(kv);
  const hashes = ["a1", "b2", "c3"];
  // A STORE $Junk and a MOVE to Junk of the same message, reported at the same time.
  const outcomes = await Promise.all([
    model.learn(GLOBAL, "msg-1", hashes, true),
    model.learn(GLOBAL, "msg-1", hashes, true),
  ]);
  assert.deepEqual(outcomes.sort(), ["already", "learned"]);
  assert.deepEqual(await model.totals(GLOBAL), { spam: 1, ham: 0 });
  // Spam then ham at once: it ends as ham, counted once.
  const again = await Promise.all([
    model.learn(GLOBAL, "msg-2", hashes, true),
    model.learn(GLOBAL, "msg-2", hashes, false),
  ]);
  assert.deepEqual(again, ["learned", "relearned"]);
  assert.deepEqual(await model.totals(GLOBAL), { spam: 1, ham: 1 });
});
