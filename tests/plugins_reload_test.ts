/**
 * Plugin reload. On the host: a call under way finishes on the old process while new calls
 * go to the new one; a reload that cannot load a plugin changes nothing. End to end: a real
 * `serve` process, an SMTP session (python3 smtplib) left open across `denomail plugin
 * reload`, which finishes its message on the new plugin; a broken config is refused.
 */
import { runRcpt } from "./lib/plugin_hooks.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { configFromObject, type PluginConfig } from "../core/config.ts";
import { PluginHost, PluginLoadError } from "../plugins/engine/host.ts";
import { addUserCli, cli, startServerProcess } from "./lib/server_process.ts";
import { python } from "./harness.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

Deno.test("plugin host reload", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-reload-" });
  const version = (v: number, extra: Record<string, unknown> = {}) =>
    configFromObject({
      data_dir: dir,
      plugins: [{
        name: "versioned",
        module: fixture("versioned.ts"),
        options: { version: v, slow_ms: 400 },
        ...extra,
      }],
    }, dir).plugins;
  const host = await PluginHost.start({ ...configFromObject({ data_dir: dir }, dir) }, {});
  try {
    await t.step("from no plugins to one", async () => {
      assert.equal(host.wants("rcpt"), false);
      await host.reload(version(1));
      assert.equal((await runRcpt(host, "which")).text, "version 1");
    });

    await t.step(
      "a call under way finishes on the old process; new calls use the new",
      async () => {
        const slow = runRcpt(host, "slow"); // bound to version 1 now
        await host.reload(version(2));
        assert.equal((await runRcpt(host, "which")).text, "version 2");
        const old = await slow;
        assert.equal(old.text, "version 1");
        assert.equal(old.results[0].error, undefined, "not cut off by the reload");
        assert.deepEqual(host.list().map((p) => [p.name, p.state]), [["versioned", "ready"]]);
      },
    );

    await t.step("a plugin that does not load: the reload throws, nothing changes", async () => {
      const broken: PluginConfig[] = [
        ...version(3),
        { ...version(3)[0], name: "broken", module: fixture("broken.ts") },
      ];
      await assert.rejects(host.reload(broken), PluginLoadError);
      assert.equal((await runRcpt(host, "which")).text, "version 2");
    });

    await t.step("to no plugins", async () => {
      await host.reload([]);
      assert.equal(host.wants("rcpt"), false);
      assert.equal((await runRcpt(host, "which")).action, "continue");
    });
  } finally {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** An SMTP session that waits for a line on stdin between RCPT and DATA. */
const HELD_SESSION = `
import json, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.example")
s.mail("sender@example.org")
code, _ = s.rcpt("u1@example.test")
print(json.dumps({"rcpt": code}), flush=True)
sys.stdin.readline()
code, text = s.data(b"Subject: across a reload\\r\\n\\r\\nbody\\r\\n")
print(json.dumps({"data": code, "text": text.decode()}), flush=True)
s.quit()
`;

/** The X-Plugin-Version of every message in u1's INBOX, by IMAP. */
const VERSIONS = `
import imaplib, json, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("u1@example.test", "pw-123456")
m.select("INBOX")
typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (X-PLUGIN-VERSION)])")
print(json.dumps([p[1].decode().strip() for p in data if isinstance(p, tuple)]))
m.logout()
`;

Deno.test("plugin reload on a running serve: sessions carry on", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-reload-e2e-" });
  const configPath = join(dir, "denomail.toml");
  const writeConfig = (plugin: string, version: number) =>
    Deno.writeTextFile(
      configPath,
      `hostname = "mail.example.test"\ndata_dir = "${dir}/data"\n` +
        `[listeners]\nsmtp = "127.0.0.1:0"\nimap = "127.0.0.1:0"\nsubmission = ""\n` +
        `submissions = ""\nimaps = ""\npop3 = ""\npop3s = ""\nmanagesieve = ""\nhttp = ""\nhttps = ""\n` +
        `[[plugins]]\nname = "versioned"\nmodule = "${fixture(plugin)}"\n` +
        `options = { version = ${version} }\n`,
    );
  await writeConfig("versioned.ts", 1);
  await addUserCli(configPath, "u1@example.test", "pw-123456");
  const server = await startServerProcess(configPath, ["smtp", "imap"]);
  try {
    await t.step("the pid file names the server", async () => {
      // serve writes it right after its listeners are up (which is what we waited for).
      const deadline = Date.now() + 10_000;
      let pid = 0;
      while (pid !== server.child.pid && Date.now() < deadline) {
        pid = Number((await Deno.readTextFile(`${dir}/data/denomail.pid`).catch(() => "")).trim());
        if (pid !== server.child.pid) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(pid, server.child.pid);
    });

    await t.step("a session open across `plugin reload` finishes on the new plugin", async () => {
      const session = new Deno.Command("python3", {
        args: ["-c", HELD_SESSION, String(server.ports.smtp)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines = session.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      const nextLine = async () => {
        while (!out.includes("\n")) {
          const { value, done } = await lines.read();
          if (done) throw new Error("the SMTP client ended early");
          out += value;
        }
        const line = out.slice(0, out.indexOf("\n"));
        out = out.slice(out.indexOf("\n") + 1);
        return JSON.parse(line);
      };
      assert.deepEqual(await nextLine(), { rcpt: 250 });
      await writeConfig("versioned.ts", 2);
      const r = await cli(["plugin", "reload", "--config", configPath]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "reloaded: versioned(rcpt,data)");
      const w = session.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
      const done = await nextLine();
      assert.equal(done.data, 250, done.text);
      await lines.cancel();
      await session.stderr.cancel();
      assert.equal((await session.status).code, 0);
      const versions = JSON.parse((await python(VERSIONS, [String(server.ports.imap)])).stdout);
      assert.deepEqual(versions, ["X-Plugin-Version: 2"]);
    });

    await t.step(
      "a plugin that does not load: reload fails (exit 1), the old one stays",
      async () => {
        await writeConfig("broken.ts", 3);
        const r = await cli(["plugin", "reload", "--config", configPath]);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /^denomail: plugin reload failed: plugin versioned: .*broken at load/,
        );
        await writeConfig("versioned.ts", 2);
        const smtp = await python(
          `import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
print(s.sendmail("a@example.org", ["u1@example.test"], b"Subject: after\\r\\n\\r\\nx\\r\\n") or "ok")`,
          [String(server.ports.smtp)],
        );
        assert.equal(smtp.stdout.trim(), "ok");
        const versions = JSON.parse((await python(VERSIONS, [String(server.ports.imap)])).stdout);
        assert.deepEqual(versions, ["X-Plugin-Version: 2", "X-Plugin-Version: 2"]);
      },
    );
  } finally {
    const status = await server.stop();
    assert.equal(status.code, 0, server.log());
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plugin reload without a running server (or a stale pid): exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-reload-none-" });
  try {
    const configPath = join(dir, "denomail.toml");
    await Deno.writeTextFile(configPath, `data_dir = "${dir}/data"\n`);
    const r = await cli(["plugin", "reload", "--config", configPath]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^denomail: plugin reload: no running server/);
    // A stale pid file naming a process that is not `serve` (this test runner): no signal.
    await Deno.mkdir(`${dir}/data`, { recursive: true });
    await Deno.writeTextFile(`${dir}/data/denomail.pid`, `${Deno.pid}\n`);
    const stale = await cli(["plugin", "reload", "--config", configPath]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^denomail: plugin reload: pid \d+ .* is not a denomail serve/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
