/**
 * Early data calls on the host (sdk.ts `Early`), for a plugin that reads the headers (the
 * envelope-only case at DATA is tests/plugins_early_test.ts, over SMTP): asked beside the
 * plugin ahead of it, its answer is used while nothing it reads changed; a header field
 * or score added ahead of it has it asked again; a reject ahead of it wins; in a group it
 * is asked in turn; `early` must be a boolean.
 */
import assert from "node:assert/strict";
import { definePlugin } from "../sdk.ts";
import { twoPluginHost } from "../../tests/lib/two_plugin_host.ts";

const SDK = new URL("../sdk.ts", import.meta.url).href;

/** First plugin (in turn): acts per Subject. */
const FIRST = `import { definePlugin, reject } from "${SDK}";
export default definePlugin({ hooks: { data(ctx) {
  const subject = ctx.message.header("subject");
  if (subject === "reject") return reject(550, "5.7.1", "no");
  if (subject === "tag") return { addHeaders: [["X-First", "1"]] };
  if (subject === "score") return { score: 3 };
} } });`;

/** Second plugin: early, reads the headers; reports what it saw and how often it was asked. */
const SECOND = `import { definePlugin } from "${SDK}";
let asked = 0;
export default definePlugin({ reads: "headers", early: true, hooks: { data(ctx) {
  asked++;
  const seen = { asked, first: ctx.message.header("x-first") ?? null, score: ctx.score,
    earlier: ctx.results.map((r) => r.plugin).join(",") };
  return { note: JSON.stringify(seen) };
} } });`;

for (const group of [undefined, "g"]) {
  Deno.test(`early data calls${group ? " (one group: asked in turn)" : ""}`, async (t) => {
    const { run, stop } = await twoPluginHost("early-test-", FIRST, SECOND, group);
    let asked = 0;
    const second = async (subject: string) => {
      const o = await run(subject);
      const s = JSON.parse(o.results.find((r) => r.plugin === "second")!.note!);
      const times = s.asked - asked;
      asked = s.asked;
      return { ...s, times };
    };
    try {
      await t.step(
        "nothing ahead changed: one call (early: without the plain result)",
        async () => {
          const s = await second("quiet");
          assert.equal(s.times, 1);
          // Asked beside "first", it did not see first's plain "continue"; in a group, in turn.
          assert.equal(s.earlier, group ? "first" : "");
        },
      );
      await t.step("a header field added ahead of it: asked again, sees it", async () => {
        const s = await second("tag");
        assert.equal(s.first, "1");
        assert.equal(s.earlier, "first");
        assert.equal(s.times, group ? 1 : 2);
      });
      await t.step("a score added ahead of it: asked again with the real score", async () => {
        const s = await second("score");
        assert.equal(s.score, 3);
        assert.equal(s.times, group ? 1 : 2);
      });
      await t.step(
        "a reject ahead of it wins; its early answer is not in the results",
        async () => {
          const o = await run("reject");
          assert.equal(o.action, "reject");
          assert.equal(o.decidedBy, "first");
          assert.deepEqual(o.results.map((r) => r.plugin), ["first"]);
          // The early call was made all the same (not in a group): the count went on.
          const s = await second("quiet");
          assert.equal(s.times, group ? 1 : 2);
        },
      );
    } finally {
      await stop();
    }
  });
}

Deno.test("early must be true or false", () => {
  assert.throws(
    () => definePlugin({ early: "yes" as unknown as boolean, hooks: { data() {} } }),
    /early must be true or false/,
  );
});
