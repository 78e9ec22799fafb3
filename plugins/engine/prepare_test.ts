/**
 * Prepared data hooks (sdk.ts `Prepares`): a later plugin's `prepare` runs beside the
 * plugins ahead of it, its value reaches its hook, which still runs in order and sees
 * their results; a replaced body or an earlier verdict leaves nothing prepared in use.
 */
import assert from "node:assert/strict";
import { MESSAGE, twoPluginHost } from "../../tests/lib/two_plugin_host.ts";

const SDK = new URL("../sdk.ts", import.meta.url).href;

/** First plugin: acts per Subject (reject, replace the body, or add a header field). */
const FIRST = `import { definePlugin, reject } from "${SDK}";
export default definePlugin({ hooks: { async data(ctx) {
  const subject = ctx.message.header("subject");
  if (subject === "reject") return reject(550, "5.7.1", "no");
  if (subject === "body") return { body: "replaced\\r\\n", note: "first" };
  return { addHeaders: [["X-First", "1"]], note: "first" };
} } });`;

/** Second plugin: prepare notes the size it saw; data reports what it got. */
const SECOND = `import { definePlugin } from "${SDK}";
let prepares = 0;
export default definePlugin({
  hooks: { data(ctx) {
    const earlier = ctx.results.map((r) => r.note).join(",");
    return { note: JSON.stringify({ prepared: ctx.prepared ?? null, earlier, size: ctx.message.size, prepares }) };
  } },
  prepare: { data(ctx) { prepares++; return { size: ctx.message.size, hasResults: "results" in ctx }; } },
});`;

// Also with both plugins in one group (one process, asked in one call): the same rules.
for (const group of [undefined, "g"]) {
  Deno.test(`prepared data hooks${group ? " (one group)" : ""}`, async (t) => {
    const { run, stop } = await twoPluginHost("prepare-test-", FIRST, SECOND, group);
    const second = (o: Awaited<ReturnType<typeof run>>) =>
      JSON.parse(o.results.find((r) => r.plugin === "second")!.note!);
    try {
      await t.step("the hook gets the prepared value and the earlier results", async () => {
        const o = await run("plain");
        const s = second(o);
        // Prepared on the message as received; the hook sees it with X-First in front.
        assert.deepEqual(s.prepared, { size: MESSAGE("plain").length, hasResults: false });
        assert.equal(s.earlier, "first");
        assert.equal(s.size, MESSAGE("plain").length + "X-First: 1\r\n".length);
      });
      await t.step("a replaced body leaves the prepared value unused", async () => {
        const s = second(await run("body"));
        assert.equal(s.prepared, null);
        assert.equal(s.earlier, "first");
      });
      await t.step(
        "an earlier verdict: the later plugin is not asked, its value dropped",
        async () => {
          const o = await run("reject");
          assert.equal(o.action, "reject");
          assert.equal(o.results.length, 1);
          // The runner still serves the next message normally.
          const s = second(await run("plain"));
          assert.equal(s.earlier, "first");
          assert.notEqual(s.prepared, null);
        },
      );
    } finally {
      await stop();
    }
  });
}
