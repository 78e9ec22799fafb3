/**
 * Prepared data hooks (sdk.ts `Prepares`): a later plugin's `prepare` runs beside the
 * plugins ahead of it, its value reaches its hook, which still runs in order and sees
 * their results; a replaced body or an earlier verdict leaves nothing prepared in use.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { configFromObject } from "../../core/config.ts";
import { PluginHost } from "./host.ts";

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

const MESSAGE = (subject: string) =>
  new TextEncoder().encode(`Subject: ${subject}\r\nFrom: a@b.test\r\n\r\nhello\r\n`);

// Also with both plugins in one group (one process, asked in one call): the same rules.
for (const group of [undefined, "g"]) {
  Deno.test(`prepared data hooks${group ? " (one group)" : ""}`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "prepare-test-" });
    await Deno.writeTextFile(join(dir, "first.ts"), FIRST);
    await Deno.writeTextFile(join(dir, "second.ts"), SECOND);
    const config = configFromObject({
      data_dir: join(dir, "data"),
      plugins: [
        { name: "first", module: join(dir, "first.ts"), group },
        { name: "second", module: join(dir, "second.ts"), group },
      ],
    }, dir);
    const host = await PluginHost.start(config, { strict: true });
    const run = (subject: string) =>
      host.run("data", {
        session: { id: "t", remoteIp: "192.0.2.1", tls: false },
        sender: { address: "a@b.test", local: "a", domain: "b.test" },
        recipients: [{ address: "u@example.test", local: "u", domain: "example.test" }],
        message: MESSAGE(subject),
      });
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
      await host.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}
