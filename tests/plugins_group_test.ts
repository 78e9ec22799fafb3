/**
 * Plugin groups (`group = "..."` in [[plugins]]): plugins that share one sandbox process
 * and are asked in one round trip, with the same outcome as separate processes: each sees
 * the earlier ones' results, score and header fields; the first verdict decides; a failure
 * follows each plugin's own on_error; kv stays namespaced per plugin; a hung group is
 * killed within the sum of its timeouts and serves the next message. End to end: a group
 * through SMTP with python's smtplib, the stored message carrying every member's header.
 */
import { runData } from "./lib/plugin_hooks.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { python, startTestServer } from "./harness.ts";

const SDK = new URL("../plugins/sdk.ts", import.meta.url).href;

/**
 * A member: adds `X-<name>: pid` and score 1; its note says what it saw (the header
 * fields of earlier members, their results, the running score, its own kv value).
 * Subject "<name>:reject" / ":throw" / ":loop" makes it do that.
 */
const member = (name: string) =>
  `import { definePlugin, reject } from "${SDK}";
export default definePlugin({ hooks: { async data(ctx) {
  const subject = ctx.message.header("subject") ?? "";
  if (subject === "${name}:reject") return reject(550, "5.7.1", "${name} says no");
  if (subject === "${name}:throw") throw new Error("${name} broke");
  if (subject === "${name}:loop") for (;;) {}
  const mine = await ctx.kv.get("k");
  await ctx.kv.set("k", "${name}");
  const seen = ["a", "b", "c"].filter((n) => ctx.message.header("x-" + n) != null).join("");
  const earlier = ctx.results.map((r) => r.plugin + "=" + r.action + (r.error ? "!" : "")).join(",");
  return {
    addHeaders: [["X-${name}", String(Deno.pid)]],
    score: 1,
    note: JSON.stringify({ seen, earlier, score: ctx.score, kv: mine }),
  };
} } });`;

async function groupHost(
  dir: string,
  group: string | null,
  onError: string[] = [],
  sandbox: "process" | "worker" = "process",
) {
  const plugins = ["a", "b", "c"].map((n, i) => ({
    name: n,
    module: join(dir, `${n}.ts`),
    timeout_ms: 400,
    on_error: onError[i] ?? "tempfail",
    ...(group ? { group } : {}),
  }));
  const config = configFromObject({ data_dir: join(dir, "data"), plugins }, dir);
  const kv = new Map<string, string>();
  const store = {
    kvGet: (ns: string, k: string) => Promise.resolve(kv.get(`${ns}/${k}`) ?? null),
    kvSet: (ns: string, k: string, v: string) => Promise.resolve(void kv.set(`${ns}/${k}`, v)),
  };
  const host = await PluginHost.start(config, {
    strict: true,
    // deno-lint-ignore no-explicit-any
    store: store as any,
    process: { sandbox },
  });
  const run = (subject: string) => runData(host, subject);
  return { host, run, kv };
}

Deno.test("plugin groups", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "plugin-group-test-" });
  for (const n of ["a", "b", "c"]) await Deno.writeTextFile(join(dir, `${n}.ts`), member(n));
  try {
    await t.step("a group needs one sandbox: a different grant is a config error", () => {
      const bad = () =>
        configFromObject({
          data_dir: join(dir, "data"),
          plugins: [
            { name: "a", module: join(dir, "a.ts"), group: "g" },
            { name: "b", module: join(dir, "b.ts"), group: "g", permissions: { env: ["HOME"] } },
          ],
        }, dir);
      assert.throws(bad, (e) => e instanceof ConfigError && /plugins\[1\]\.group/.test(e.message));
      assert.throws(
        () =>
          configFromObject({
            data_dir: join(dir, "data"),
            plugins: [{ name: "a", module: join(dir, "a.ts"), group: "no spaces" }],
          }, dir),
        (e) => e instanceof ConfigError && /plugins\[0\]\.group/.test(e.message),
      );
    });

    // The same outcome, one process or three; the group's plugins share one pid. Also in
    // the compiled binary's sandbox (a Worker per process, see plugins/engine/sandbox_child.ts).
    const cases = [[null, "process"], ["g", "process"], ["g", "worker"]] as const;
    for (const [group, sandbox] of cases) {
      const label = `${group ? "one group" : "own processes"} (${sandbox} sandbox)`;
      await t.step(`${label}: same chain rules`, async () => {
        const { host, run, kv } = await groupHost(dir, group, [], sandbox);
        try {
          const o = await run("plain");
          assert.equal(o.action, "continue");
          assert.equal(o.score, 3);
          assert.deepEqual(o.results.map((r) => r.plugin), ["a", "b", "c"]);
          const notes = o.results.map((r) => JSON.parse(r.note!));
          assert.deepEqual(notes.map((n) => n.seen), ["", "a", "ab"]);
          assert.deepEqual(notes.map((n) => n.earlier), [
            "",
            "a=continue",
            "a=continue,b=continue",
          ]);
          assert.deepEqual(notes.map((n) => n.score), [0, 1, 2]);
          const pids = new Set(o.addHeaders.map(([, v]) => v));
          assert.equal(pids.size, group ? 1 : 3);
          const text = new TextDecoder().decode(o.message);
          assert.match(text, /^X-c: \d+\r\nX-b: \d+\r\nX-a: \d+\r\nSubject: plain\r\n/);
          // kv is namespaced per plugin, in a group too.
          const second = await run("plain");
          assert.deepEqual(second.results.map((r) => JSON.parse(r.note!).kv), ["a", "b", "c"]);
          assert.equal(kv.size, 3);

          const rej = await run("b:reject");
          assert.equal(rej.action, "reject");
          assert.equal(rej.decidedBy, "b");
          assert.equal(rej.code, 550);
          assert.deepEqual(rej.results.map((r) => r.plugin), ["a", "b"]);
        } finally {
          await host.stop();
        }
      });
    }

    await t.step("a failure follows that plugin's on_error, in a group", async () => {
      const { host, run } = await groupHost(dir, "g", ["tempfail", "continue", "tempfail"]);
      try {
        const skipped = await run("b:throw");
        assert.equal(skipped.action, "continue");
        assert.deepEqual(
          skipped.results.map((r) => `${r.plugin}=${r.action}${r.error ? "!" : ""}`),
          ["a=continue", "b=continue!", "c=continue"],
        );
        assert.match(skipped.results[1].error!, /hook threw: Error: b broke/);
        assert.equal(JSON.parse(skipped.results[2].note!).earlier, "a=continue,b=continue!");
        const failed = await run("c:throw");
        assert.equal(failed.action, "tempfail");
        assert.equal(failed.code, 451);
        assert.equal(failed.enhanced, "4.3.0");
        assert.equal(failed.decidedBy, "c");
      } finally {
        await host.stop();
      }
    });

    await t.step("a hung member: killed within the group's timeouts, then serves", async () => {
      const { host, run } = await groupHost(dir, "g", ["continue", "tempfail", "tempfail"]);
      try {
        const t0 = performance.now();
        const hung = await run("b:loop");
        const took = performance.now() - t0;
        // a's on_error is continue, b's tempfail: b decides.
        assert.equal(hung.action, "tempfail");
        assert.equal(hung.decidedBy, "b");
        assert.match(hung.results[0].error!, /timeout after 1200 ms/);
        assert.ok(took < 1200 + 1000, `took ${took} ms`);
        assert.equal(await host.ready("c"), true);
        const next = await run("plain");
        assert.equal(next.action, "continue");
        assert.equal(next.results.length, 3);
      } finally {
        await host.stop();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

const SEND = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.sendmail("s@example.org", ["u@example.test"], b"Subject: grouped\\r\\nFrom: s@example.org\\r\\n\\r\\nhi\\r\\n")
s.quit()
`;

Deno.test("plugin group through SMTP (smtplib)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plugin-group-smtp-" });
  for (const n of ["a", "b"]) await Deno.writeTextFile(join(dir, `${n}.ts`), member(n));
  const ts = await startTestServer({
    plugins: ["a", "b"].map((n) => ({ name: n, module: join(dir, `${n}.ts`), group: "g" })),
  });
  try {
    await ts.addUser("u@example.test", "pw-123456");
    await python(SEND, [String(ts.port("smtp"))]);
    const account = await ts.store.getAccount("u@example.test");
    const inbox = await ts.store.getMailbox(account!.id, "INBOX");
    const [msg] = await ts.store.listMessages(inbox!.id);
    const text = new TextDecoder().decode(await ts.store.readBlob(msg.blobId));
    const a = text.match(/^X-a: (\d+)\r$/m);
    const b = text.match(/^X-b: (\d+)\r$/m);
    assert.ok(a && b, text);
    assert.equal(a[1], b[1]); // one process
  } finally {
    await ts.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
