/**
 * Plugins at work, visible (issue 23): after mail through a real `serve` process (python
 * smtplib), `/metrics` (curl) carries each plugin's calls, latency histogram, verdicts,
 * timeouts, restarts and memory, and `denomail plugin list` prints the same figures from
 * the running server (SIGUSR1), exiting 1 while a plugin is failed. A sandbox refusal
 * reaches the log in our words with the config key to change.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { addUserCli, cli, startServerProcess } from "./lib/server_process.ts";
import { python, run } from "./harness.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

const SEND = `import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
for i in range(int(sys.argv[2])):
    try:
        s.sendmail("a@example.org", ["u1@example.test"], b"Subject: m%d\\r\\n\\r\\nbody\\r\\n" % i)
        print("250")
    except smtplib.SMTPResponseException as e:
        print(e.smtp_code)
s.quit()`;

/** An RCPT that makes the "fragile" plugin exit (on_error = "continue": still 250). */
const SEND_DIE = `import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("t")
s.mail("die@example.org")
print(s.rcpt("u1@example.test")[0])
s.quit()`;

const SDK = new URL("../plugins/sdk.ts", import.meta.url).href;

/** The value of one sample line of `text`, or undefined. */
function sample(text: string, line: string): number | undefined {
  const l = text.split("\n").find((x) => x.startsWith(line + " "));
  return l === undefined ? undefined : Number(l.slice(line.length + 1));
}

Deno.test("plugin metrics: /metrics and plugin list after mail through the server", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugin-metrics-" });
  const configPath = join(dir, "denomail.toml");
  // A plugin outside the fixtures, so that the test can break it on disk.
  const fragile = join(dir, "fragile.ts");
  await Deno.writeTextFile(
    fragile,
    `import { definePlugin } from ${JSON.stringify(SDK)};
export default definePlugin({ reads: "envelope", hooks: { rcpt(ctx) {
  if (ctx.sender.local === "die") Deno.exit(3);
} } });
`,
  );
  await Deno.writeTextFile(
    configPath,
    `hostname = "mail.example.test"\ndata_dir = "${dir}/data"\n` +
      `[listeners]\nsmtp = "127.0.0.1:0"\nhttp = "127.0.0.1:0"\nimap = ""\nsubmission = ""\n` +
      `submissions = ""\nimaps = ""\npop3 = ""\npop3s = ""\nmanagesieve = ""\nhttps = ""\n` +
      `[[plugins]]\nname = "hello"\nmodule = "${fixture("hello.ts")}"\n` +
      `[[plugins]]\nname = "prober"\nmodule = "${fixture("denied_read.ts")}"\n` +
      `on_error = "continue"\noptions = { path = "/etc/hostname" }\n` +
      `[[plugins]]\nname = "fragile"\nmodule = "${fragile}"\non_error = "continue"\n`,
  );
  await addUserCli(configPath, "u1@example.test", "pw-123456");
  const admin = await cli(
    ["user", "add", "root@example.test", "--admin", "--password-stdin", "--config", configPath],
    { stdin: "pw-admin-123456\n" },
  );
  assert.equal(admin.code, 0, admin.stderr);
  const server = await startServerProcess(configPath, ["smtp", "http"]);
  try {
    // The pid file is written once the listeners are up: wait for it (plugin list reads it).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pid = await Deno.readTextFile(`${dir}/data/denomail.pid`).catch(() => "");
      if (Number(pid.trim()) === server.child.pid) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const sent = await python(SEND, [String(server.ports.smtp), "3"]);
    assert.deepEqual(sent.stdout.trim().split("\n"), ["250", "250", "250"]);

    await t.step("/metrics (curl) shows each plugin's figures", async () => {
      const r = await run("curl", ["-sf", `http://127.0.0.1:${server.ports.http}/metrics`]);
      const m = r.stdout;
      assert.equal(sample(m, 'denomail_plugin_calls_total{plugin="hello",hook="data"}'), 3);
      assert.equal(sample(m, 'denomail_plugin_calls_total{plugin="hello",hook="rcpt"}'), 3);
      assert.equal(sample(m, 'denomail_plugin_calls_total{plugin="prober",hook="data"}'), 3);
      assert.equal(
        sample(m, 'denomail_plugin_call_duration_seconds_count{plugin="hello",hook="data"}'),
        3,
      );
      assert.equal(
        sample(
          m,
          'denomail_plugin_call_duration_seconds_bucket{plugin="hello",hook="data",le="+Inf"}',
        ),
        3,
      );
      assert.equal(
        sample(m, 'denomail_plugin_verdicts_total{plugin="hello",verdict="continue"}'),
        6,
      );
      assert.equal(sample(m, 'denomail_plugin_verdicts_total{plugin="prober",verdict="error"}'), 3);
      assert.equal(sample(m, 'denomail_plugin_errors_total{plugin="prober"}'), 3);
      assert.equal(sample(m, 'denomail_plugin_timeouts_total{plugin="hello"}'), 0);
      assert.equal(sample(m, 'denomail_plugin_restarts_total{plugin="hello"}'), 0);
      assert.equal(sample(m, 'denomail_plugin_up{plugin="hello"}'), 1);
      const rss = sample(m, 'denomail_plugin_memory_bytes{plugin="hello"}');
      assert.ok(rss !== undefined && rss > 1024 * 1024, `memory: ${rss}`);
      assert.match(m, /# TYPE denomail_plugin_call_duration_seconds histogram/);
    });

    await t.step("the admin API's plugin list carries the same figures", async () => {
      const r = await run("curl", [
        "-sf",
        "-u",
        "root@example.test:pw-admin-123456",
        `http://127.0.0.1:${server.ports.http}/api/admin/plugins`,
      ]);
      const hello = JSON.parse(r.stdout).plugins.find((p: { name: string }) => p.name === "hello");
      assert.equal(hello.stats.calls.data.calls, 3);
      assert.equal(hello.stats.verdicts.continue, 6);
      assert.equal(hello.stats.restarts, 0);
    });

    await t.step("a refused read is logged in our words, with the key to change", () => {
      assert.match(
        server.log(),
        /plugin \\?"prober\\?" was refused read access to \/etc\/hostname; to allow it add permissions\.read = \[\\?"\/etc\/hostname\\?"\] to its \[\[plugins\]\] entry/,
      );
      assert.doesNotMatch(server.log(), /run again with the --allow-read flag/);
    });

    await t.step("plugin list prints the running server's figures", async () => {
      const r = await cli(["plugin", "list", "--config", configPath]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n").map((l) => l.split("\t"));
      assert.deepEqual(lines.map((l) => l[0]), ["hello", "prober", "fragile"]);
      assert.equal(lines[0][4], "ok");
      assert.match(lines[0][5], /^calls=rcpt:3\(avg [\d.]+ms\),data:3\(avg [\d.]+ms\)$/);
      assert.equal(lines[0][6], "verdicts=continue:6");
      assert.deepEqual(lines[0].slice(7, 10), ["timeouts=0", "errors=0", "restarts=0"]);
      assert.match(lines[0][10], /^rss=[\d.]+MB$/);
      assert.equal(lines[1][6], "verdicts=error:3");
      assert.equal(lines[1][8], "errors=3");
    });

    await t.step("plugin list exits 1 while a plugin is failed", async () => {
      // The module on disk no longer loads; a crash makes the server restart it, which
      // fails (again and again, with backoff): the plugin stays failed.
      await Deno.writeTextFile(fragile, 'throw new Error("fragile: broken at load");\n');
      const died = await python(SEND_DIE, [String(server.ports.smtp)]);
      assert.equal(died.stdout.trim(), "250");
      const r = await cli(["plugin", "list", "--config", configPath]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^denomail: plugin list: 1 of 3 failed\n$/);
      const line = r.stdout.split("\n").find((l) => l.startsWith("fragile\t")) ?? "";
      assert.match(line.split("\t")[4], /^ERROR /);
      assert.match(line, /\trestarts=[1-9]\d*\t/);
    });
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.log());
  }
  try {
    await t.step("with no server: config only, said so", async () => {
      const r = await cli(["plugin", "list", "--config", configPath]);
      assert.match(
        r.stdout,
        /^\(no running server: loaded from the config; figures need `serve`\)$/m,
      );
      assert.match(r.stdout, /^hello\t\S+\thooks=rcpt,data\tpermissions=none\tok$/m);
      assert.equal(r.code, 1, "fragile does not load");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
