/**
 * A pool of plugin processes (`processes = N` in [[plugins]]): calls go to the process with
 * the fewest in flight, so two slow calls run in two processes at once; one process that
 * hangs is killed and replaced while the other keeps serving; `plugin list` shows the
 * plugin once. End to end through SMTP with python's smtplib.
 */
import { runData } from "./lib/plugin_hooks.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { python, startTestServer } from "./harness.ts";

const SDK = new URL("../plugins/sdk.ts", import.meta.url).href;

/** Notes its pid; Subject "slow" waits 300 ms first, "loop" never answers. */
const POOLED = `import { definePlugin } from "${SDK}";
export default definePlugin({ hooks: { async data(ctx) {
  const subject = ctx.message.header("subject");
  if (subject === "slow") await new Promise((r) => setTimeout(r, 300));
  if (subject === "loop") for (;;) {}
  return { addHeaders: [["X-Pid", String(Deno.pid)]], note: String(Deno.pid) };
} } });`;

Deno.test("plugin process pool", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "plugin-pool-test-" });
  const module = join(dir, "pooled.ts");
  await Deno.writeTextFile(module, POOLED);
  const config = configFromObject({
    data_dir: join(dir, "data"),
    plugins: [{ name: "pooled", module, processes: 2, timeout_ms: 1000, on_error: "tempfail" }],
  }, dir);
  const host = await PluginHost.start(config, { strict: true });
  const run = (subject: string) => runData(host, subject);
  try {
    await t.step("listed once, with its hooks", () => {
      assert.deepEqual(host.list().map((p) => [p.name, p.state, p.hooks]), [
        ["pooled", "ready", ["data"]],
      ]);
    });

    await t.step("two slow calls at once run in two processes", async () => {
      const [a, b] = await Promise.all([run("slow"), run("slow")]);
      assert.equal(a.action, "continue");
      assert.equal(b.action, "continue");
      assert.notEqual(a.results[0].note, b.results[0].note);
    });

    await t.step("one process hangs: the other serves meanwhile; it is replaced", async () => {
      const hung = run("loop");
      // The hung call holds one process; the next run goes to the other and is answered
      // long before the hung one's deadline.
      const t0 = performance.now();
      const other = await run("plain");
      assert.equal(other.action, "continue");
      assert.ok(performance.now() - t0 < 900, "answered while the other process hangs");
      const h = await hung;
      assert.equal(h.action, "tempfail");
      assert.match(h.results[0].error!, /timeout after 1000 ms/);
      assert.equal(await host.ready("pooled"), true);
      const pids = new Set<string>();
      const runs = await Promise.all([run("slow"), run("slow")]);
      for (const r of runs) pids.add(r.results[0].note!);
      assert.equal(pids.size, 2);
    });

    await t.step("a reload replaces every process of the pool; calls go on", async () => {
      const before = new Set(
        (await Promise.all([run("slow"), run("slow")])).map((r) => r.results[0].note),
      );
      const during = run("slow");
      await host.reload(config.plugins);
      assert.equal((await during).action, "continue"); // finished on the old pool
      const after = await Promise.all([run("slow"), run("slow")]);
      const pids = new Set(after.map((r) => r.results[0].note));
      assert.equal(pids.size, 2);
      for (const p of pids) assert.ok(!before.has(p), "new processes");
    });

    await t.step("processes must be 1 to 16", () => {
      assert.throws(
        () =>
          configFromObject({
            data_dir: join(dir, "data"),
            plugins: [{ name: "a", module, processes: 17 }],
          }, dir),
        (e) => e instanceof ConfigError && /plugins\[0\]\.processes/.test(e.message),
      );
    });

    await t.step("a group's plugins need the same pool size", () => {
      assert.throws(
        () =>
          configFromObject({
            data_dir: join(dir, "data"),
            plugins: [
              { name: "a", module, group: "g", processes: 2 },
              { name: "b", module, group: "g" },
            ],
          }, dir),
        (e) => e instanceof ConfigError && /plugins\[1\]\.group "g": processes/.test(e.message),
      );
    });
  } finally {
    await host.stop();
  }

  await t.step("through SMTP (smtplib): pooled messages are stored with the header", async () => {
    const ts = await startTestServer({
      plugins: [{ name: "pooled", module, processes: 2 }],
    });
    try {
      await ts.addUser("u@example.test", "pw-123456");
      await python(
        `
import smtplib, sys
for i in range(4):
    s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
    s.sendmail("s@example.org", ["u@example.test"], b"Subject: pooled\\r\\n\\r\\nhi\\r\\n")
    s.quit()
`,
        [String(ts.port("smtp"))],
      );
      const account = await ts.store.getAccount("u@example.test");
      const inbox = await ts.store.getMailbox(account!.id, "INBOX");
      const msgs = await ts.store.listMessages(inbox!.id);
      assert.equal(msgs.length, 4);
      for (const m of msgs) {
        const text = new TextDecoder().decode(await ts.store.readBlob(m.blobId));
        assert.match(text, /^X-Pid: \d+\r$/m);
      }
    } finally {
      await ts.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
});
