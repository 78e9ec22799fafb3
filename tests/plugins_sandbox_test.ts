/**
 * The plugin sandbox: hostile plugins are contained, the host answers with the on_error
 * outcome within timeout + 1 s, and the plugin is restarted and serves the next call.
 * Drives a PluginHost directly (one shared runner per plugin) for speed.
 */
import { runRcpt } from "./lib/plugin_hooks.ts";
import assert from "node:assert/strict";
import { configFromObject } from "../core/config.ts";
import { pluginDnsLookup } from "../core/plugin_dns.ts";
import { PluginHost, PluginLoadError } from "../plugins/engine/host.ts";
import { openConfiguredStore } from "../app/store.ts";
import type { SandboxMode } from "../plugins/engine/spawn.ts";
import { startDnsServer } from "./lib/dns_server.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const TIMEOUT = 500;

/** A port nobody listens on (bound then closed). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * The same hostile suite in both sandbox modes: "process" (deno run with only the granted
 * --allow flags) and "worker" (the compiled binary's `__plugin-runner` mode, run from
 * source: a Worker with the grant as its permissions inside a child process).
 */
for (const mode of ["process", "worker"] as const) {
  Deno.test(`plugin sandbox (${mode}): hostile plugins are contained`, (t) =>
    hostileSuite(t, mode));
}

async function hostileSuite(t: Deno.TestContext, mode: SandboxMode) {
  const proc = { sandbox: mode };
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugins-" });
  const granted = closedPort();
  const closed = closedPort();
  Deno.env.set("DENOMAIL_TEST_PLUGIN_ENV", "granted-value");
  const dns = await startDnsServer({
    "b.test": { TXT: ["v=spf1 -all"] },
    "mx1.b.test": { A: ["192.0.2.25"] },
  });
  const config = configFromObject({
    data_dir: dir,
    dns: { nameserver: `127.0.0.1:${dns.port}`, timeout: "2s" },
    plugins: [
      {
        name: "hostile",
        module: fixture("hostile.ts"),
        timeout_ms: TIMEOUT,
        memory_mb: 64,
        on_error: "tempfail",
        options: {
          closedPort: String(closed),
          grantedPort: String(granted),
          outsidePath: `${dir}/../denomail-plugin-escape`,
          insidePath: `${dir}/inside/file`,
          secretPath: `${dir}/tls/key.pem`,
        },
        permissions: {
          net: [`127.0.0.1:${granted}`],
          write: [`${dir}/inside`],
          env: ["DENOMAIL_TEST_PLUGIN_ENV"],
        },
      },
      { name: "lenient", module: fixture("hostile.ts"), timeout_ms: TIMEOUT, on_error: "continue" },
    ],
  }, dir);
  await Deno.mkdir(`${dir}/inside`);
  await Deno.mkdir(`${dir}/tls`);
  await Deno.writeTextFile(`${dir}/tls/key.pem`, "-----BEGIN PRIVATE KEY-----\nsecret\n");
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, {
    store,
    dns: pluginDnsLookup(config.dns),
    strict: true,
    process: proc,
  });
  try {
    await t.step("both runners load and report their hooks", () => {
      assert.deepEqual(host.list().map((p) => [p.name, p.state, p.hooks]), [
        ["hostile", "ready", ["rcpt"]],
        ["lenient", "ready", ["rcpt"]],
      ]);
      assert.equal(host.wants("rcpt"), true);
      assert.equal(host.wants("data"), false);
    });

    await t.step("a plugin's verdict wins and is recorded", async () => {
      const o = await runRcpt(host, "ok");
      assert.equal(o.action, "reject");
      assert.equal(o.code, 550);
      assert.equal(o.text, "ok from hostile");
      assert.equal(o.decidedBy, "hostile");
      assert.equal(o.results.length, 1);
    });

    const denials: Array<[string, RegExp]> = [
      ["fetch", /^denied .*net access/],
      ["connect", /^denied NotCapable/],
      ["passwd", /^denied NotCapable/],
      ["write", /^denied NotCapable/],
      ["env", /^denied NotCapable/],
      ["run", /^denied NotCapable/],
      ["ffi", /^denied NotCapable/],
      ["sys", /^denied NotCapable/],
    ];
    for (const [mode, re] of denials) {
      await t.step(`${mode}: denied without a grant`, async () => {
        const o = await runRcpt(host, mode);
        assert.match(o.text ?? "", re);
      });
    }

    // Module loading is not gated by --allow-read: without the import map (import_map.ts)
    // each of these read the file (issue 13, item 12).
    const imports: Array<[string, RegExp]> = [
      ["importtext", /^denied .*denomail-plugin-import-denied\/etc\/passwd/],
      ["importjson", /^denied .*denomail-plugin-import-denied\/.*deno\.json/],
      ["importcomputed", /^denied .*denomail-plugin-import-denied\/.*key\.pem/],
      ["importeval", /^denied .*denomail-plugin-import-denied\/.*key\.pem/],
      ["importdata", /^denied .*denomail-plugin-import-denied\/.*key\.pem/],
      ["importescape", /^denied .*backtracks above its prefix/],
      ["importcode", /^denied .*denomail-plugin-import-denied\/.*config\.ts/],
      ["importnpm", /^denied .*left-pad/],
    ];
    for (const [attack, re] of imports) {
      await t.step(`${attack}: a module outside the plugin's folder is not loaded`, async () => {
        const o = await runRcpt(host, attack);
        assert.match(o.text ?? "", re);
      });
    }

    await t.step("what was granted works: net, write, env, own files", async () => {
      assert.equal((await runRcpt(host, "importown")).text, "LEAK data");
      assert.equal((await runRcpt(host, "fetchgranted")).text, "LEAK granted");
      assert.equal((await runRcpt(host, "writegranted")).text, "LEAK granted");
      assert.equal((await runRcpt(host, "envgranted")).text, "LEAK granted-value");
    });

    await t.step("a plugin printing to stdout does not break the channel", async () => {
      assert.equal((await runRcpt(host, "stdout")).text, "ok after stdout");
    });

    await t.step("a throwing hook gives 451 4.3.0 and the runner keeps serving", async () => {
      const o = await runRcpt(host, "throw");
      assert.equal(o.action, "tempfail");
      assert.equal(o.code, 451);
      assert.equal(o.enhanced, "4.3.0");
      assert.match(o.results[0].error ?? "", /plugin bug/);
      assert.equal((await runRcpt(host, "ok")).text, "ok from hostile");
    });

    for (const mode of ["loop", "hang", "exit"]) {
      await t.step(`${mode}: tempfail within timeout + 1 s, then restarted`, async () => {
        const t0 = performance.now();
        const o = await runRcpt(host, mode);
        const ms = performance.now() - t0;
        assert.equal(o.action, "tempfail");
        assert.equal(o.code, 451);
        assert.equal(o.enhanced, "4.3.0");
        assert.ok(ms < TIMEOUT + 1000, `took ${ms} ms`);
        assert.ok(o.results[0].error, "the failure is recorded");
        assert.equal(await host.ready("hostile"), true);
        assert.equal((await runRcpt(host, "ok")).text, "ok from hostile");
      });
    }

    await t.step("oom: the heap cap kills the plugin, not the server; then restarted", async () => {
      // A roomy timeout, so that running out of memory (not the clock) ends the call even
      // on a loaded machine.
      const hog = await PluginHost.start(
        configFromObject({
          data_dir: dir,
          plugins: [{
            name: "hog",
            module: fixture("hostile.ts"),
            timeout_ms: 10_000,
            memory_mb: 32,
          }],
        }, dir),
        { process: proc },
      );
      try {
        const o = await runRcpt(hog, "oom");
        assert.equal(o.action, "tempfail");
        assert.equal(o.code, 451);
        assert.match(o.results[0].error ?? "", /out of memory \(memory_mb = 32\)/);
        assert.equal(await hog.ready("hog"), true);
        assert.equal((await runRcpt(hog, "ok")).text, "ok from hog");
      } finally {
        await hog.stop();
      }
    });

    await t.step("on_error = continue skips the failed plugin", async () => {
      // "lenient" runs after "hostile"; make hostile continue by asking a mode it ignores.
      const only = await PluginHost.start(
        configFromObject({
          data_dir: dir,
          plugins: [{
            name: "lenient",
            module: fixture("hostile.ts"),
            timeout_ms: 300,
            on_error: "continue",
          }],
        }, dir),
        { process: proc },
      );
      try {
        const o = await runRcpt(only, "hang");
        assert.equal(o.action, "continue");
        assert.match(o.results[0].error ?? "", /timeout/);
      } finally {
        await only.stop();
      }
    });

    await t.step("calls are pipelined: a slow call does not hold up others", async () => {
      const all = await Promise.all(["ok", "kv", "ok", "kv"].map((m) => runRcpt(host, m)));
      assert.deepEqual(all.map((o) => o.action), ["reject", "reject", "reject", "reject"]);
    });

    await t.step("dns goes through the host's resolver ([dns] nameserver)", async () => {
      const o = await runRcpt(host, "dns");
      assert.equal(o.text, `dns [["192.0.2.25"],["v=spf1 -all"],[]]`);
    });

    await t.step("kv is namespaced per plugin and backed by the store", async () => {
      const o = await runRcpt(host, "kv");
      assert.match(o.text ?? "", /^kv 3 kv@x\.test$/);
      assert.equal(await store.kvGet("plugin:hostile", "hits"), "3");
      assert.equal(await store.kvGet("plugin:lenient", "hits"), null);
    });
  } finally {
    await host.stop();
    await store.close();
    await dns.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("plugin host: modules that are not plugins fail to load, clearly", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugins-" });
  try {
    const cases: Array<[string, RegExp]> = [
      ["not_a_plugin.ts", /definePlugin/],
      ["broken.ts", /broken at load/],
      ["sidedoor_text.ts", /denomail-plugin-import-denied\/etc\/passwd/],
      ["sidedoor_json.ts", /denomail-plugin-import-denied\/.*deno\.json/],
    ];
    for (const sandbox of ["process", "worker"] as const) {
      for (const [file, re] of cases) {
        await t.step(`${file} (${sandbox})`, async () => {
          const config = configFromObject({
            data_dir: dir,
            plugins: [{ name: "bad", module: fixture(file) }],
          }, dir);
          await assert.rejects(
            PluginHost.start(config, { strict: true, process: { sandbox } }),
            (e) => e instanceof PluginLoadError && re.test(e.message),
          );
        });
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plugin sandbox: a plugin kept beside the data directory cannot import it", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugins-" });
  try {
    await Deno.mkdir(`${dir}/data/tls`, { recursive: true });
    await Deno.writeTextFile(`${dir}/data/tls/key.pem`, "secret key");
    await Deno.writeTextFile(`${dir}/notes.txt`, "own notes");
    const sdk = new URL("../plugins/sdk.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/beside.ts`,
      // Literal specifiers: Deno loads those with the plugin's graph, without a read check.
      `import { definePlugin, reject } from ${JSON.stringify(sdk)};
export default definePlugin({ hooks: { async rcpt(ctx) {
  try {
    const m = ctx.rcpt.local === "key"
      ? await import("./data/tls/key.pem", { with: { type: "text" } })
      : await import("./notes.txt", { with: { type: "text" } });
    return reject(550, "5.7.1", "LEAK " + m.default);
  } catch (e) {
    return reject(550, "5.7.1", "denied " + (e as Error).message);
  }
} } });
`,
    );
    for (const sandbox of ["process", "worker"] as const) {
      await t.step(sandbox, async () => {
        const config = configFromObject({
          data_dir: `${dir}/data`,
          plugins: [{ name: "beside", module: `${dir}/beside.ts` }],
        }, dir);
        const host = await PluginHost.start(config, { strict: true, process: { sandbox } });
        try {
          assert.equal((await runRcpt(host, "own")).text, "LEAK own notes");
          assert.match((await runRcpt(host, "key")).text ?? "", /^denied .*import-denied/);
        } finally {
          await host.stop();
        }
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A data hook run with a message whose body holds a marker no headers-only plugin may see. */
function runSecretData(host: PluginHost) {
  const message = new TextEncoder().encode(
    "Subject: hello\r\nFrom: s@example.org\r\n\r\nSECRET-BODY-MARKER and more body\r\n",
  );
  return {
    size: message.length,
    outcome: host.run("data", {
      session: { id: "t", remoteIp: "192.0.2.1", tls: false },
      sender: { address: "s@example.org", local: "s", domain: "example.org" },
      recipients: [{ address: "u@example.test", local: "u", domain: "example.test" }],
      message,
    }),
  };
}

Deno.test("plugin sandbox: a headers-only plugin cannot obtain the body", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-plugins-" });
  const headersOnly = (text: string, size: number) => {
    assert.doesNotMatch(text, /LEAK/);
    assert.match(text, new RegExp(`^subject=hello size=${size} `));
    for (const k of ["raw", "body", "bodyText", "text"]) {
      assert.match(text, new RegExp(` ${k}=denied\\(plugin "hdr" declared reads = "headers"`));
    }
    assert.match(text, / ctx=nomarker /);
  };
  try {
    for (const sandbox of ["process", "worker"] as const) {
      await t.step(`${sandbox}: own process, also through prepare`, async () => {
        const config = configFromObject({
          data_dir: dir,
          plugins: [
            // First in the chain, so that "hdr" is sent a prepare as well.
            { name: "first", module: fixture("noop_data.ts") },
            { name: "hdr", module: fixture("reads_headers.ts") },
            { name: "env", module: fixture("reads_envelope.ts") },
          ],
        }, dir);
        const host = await PluginHost.start(config, { strict: true, process: { sandbox } });
        try {
          const { size, outcome } = runSecretData(host);
          const o = await outcome;
          assert.equal(o.decidedBy, "hdr");
          headersOnly(o.text ?? "", size);
          assert.match(o.text ?? "", / prepare=denied$/);
        } finally {
          await host.stop();
        }
      });
    }
    await t.step("in a group beside a whole-message plugin", async () => {
      const config = configFromObject({
        data_dir: dir,
        plugins: [
          { name: "whole", module: fixture("noop_data.ts"), group: "g" },
          { name: "hdr", module: fixture("reads_headers.ts"), group: "g" },
        ],
      }, dir);
      const host = await PluginHost.start(config, { strict: true });
      try {
        const { size, outcome } = runSecretData(host);
        headersOnly((await outcome).text ?? "", size);
      } finally {
        await host.stop();
      }
    });
    await t.step("an envelope-only plugin gets no header either", async () => {
      const config = configFromObject({
        data_dir: dir,
        plugins: [{ name: "env", module: fixture("reads_envelope.ts") }],
      }, dir);
      const host = await PluginHost.start(config, { strict: true });
      try {
        const { size, outcome } = runSecretData(host);
        assert.match(
          (await outcome).text ?? "",
          new RegExp(
            `^from=s@example.org size=${size} subject=denied\\(plugin "env" declared ` +
              `reads = "envelope" for data: the message is not sent to it`,
          ),
        );
      } finally {
        await host.stop();
      }
    });
    await t.step("a bad reads value is a load error naming the plugin and the key", async () => {
      const config = configFromObject({
        data_dir: dir,
        plugins: [{ name: "badreads", module: fixture("reads_bad.ts") }],
      }, dir);
      await assert.rejects(
        PluginHost.start(config, { strict: true }),
        (e) =>
          e instanceof PluginLoadError && /^plugin badreads: /.test(e.message) &&
          /reads\.data must be "envelope", "headers" or "message" \(got "body"\)/.test(e.message),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
