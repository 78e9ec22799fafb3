/**
 * Process mode talks to each runner over a Unix socket in a private temp folder; the
 * runner's first preload connects and revokes the grants it had for that socket (net
 * `unix:<path>`, read and write of the path) before the plugin loads. A plugin must not
 * hold those grants (nor reach the socket), at load time or in a call, and a grant the
 * admin gave it stays: for another host, or for a folder the socket happens to be in
 * (revoking the socket's path would revoke that folder too, so that one is kept).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { PluginProcess } from "../plugins/engine/process.ts";

const probe = new URL("./fixtures/plugins/ipc_probe.ts", import.meta.url).pathname;

/** The folder the host's socket folders are made in (the temp root). */
const tmpRoot = (() => {
  const probeDir = Deno.makeTempDirSync();
  Deno.removeSync(probeDir);
  return dirname(probeDir);
})();

/** An rcpt hook call: what each test asks the host. */
const RCPT = {
  session: { id: "t1", remoteIp: "127.0.0.1", tls: false },
  sender: { address: "a@b.test", local: "a", domain: "b.test" },
  rcpt: { address: "c@d.test", local: "c", domain: "d.test" },
  recipients: [],
};

const cases: Array<[string, Record<string, string[]>, string]> = [
  ["no grant", {}, "NotCapable(prompt,prompt,prompt) prompt"],
  ["net for another host", { net: ["example.com"] }, "NotCapable(prompt,prompt,prompt) granted"],
  // The admin's read of the temp root is kept; net and write still stop the connect.
  ["read of the temp root", { read: [tmpRoot] }, "NotCapable(prompt,granted,prompt) prompt"],
];

for (const [what, permissions, want] of cases) {
  Deno.test(`plugin ipc: the runner socket is not the plugin's (${what})`, async () => {
    const dir = await Deno.makeTempDir();
    const config = configFromObject(
      { data_dir: dir, plugins: [{ name: "probe", module: probe, permissions }] },
      dir,
    );
    const host = await PluginHost.start(config, { strict: true, process: { sandbox: "process" } });
    try {
      const o = await host.run("rcpt", RCPT);
      assert.equal(o.action, "reject");
      // The same at load time and in a call, then the admin's grant for example.com.
      const [probed, other] = want.split(" ");
      assert.equal(o.text, `${probed} ${probed} ${other}`);
    } finally {
      await host.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** The scheduling policy of a process (/proc/<pid>/stat field 41: 0 normal, 3 batch). */
function policyOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
}

const chrt = (() => {
  try {
    return Deno.statSync("/usr/bin/chrt").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "plugin ipc: a runner is scheduled as a batch task (it does not preempt the server)",
  ignore: !chrt || Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    const config = configFromObject(
      { data_dir: dir, plugins: [{ name: "probe", module: probe }] },
      dir,
    );
    const proc = new PluginProcess(config.plugins, () => Promise.resolve(null), {
      sandbox: "process",
    });
    try {
      assert.equal(await proc.start(), true);
      assert.equal(policyOf(proc.pid!), 3); // SCHED_BATCH
      assert.equal(policyOf(Deno.pid), 0); // the server itself is untouched
    } finally {
      await proc.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("plugin ipc: without a usable temp folder, the runner talks over stdin/stdout", async () => {
  const dir = await Deno.makeTempDir();
  const noop = new URL("./fixtures/plugins/noop.ts", import.meta.url).pathname;
  const config = configFromObject(
    { data_dir: dir, plugins: [{ name: "noop", module: noop }] },
    dir,
  );
  // A temp folder that does not exist stands for a read-only or missing /tmp.
  const host = await PluginHost.start(config, {
    strict: true,
    process: { sandbox: "process", socketParent: `${dir}/missing` },
  });
  try {
    const o = await host.run("rcpt", RCPT);
    assert.equal(o.results.length, 1);
    assert.equal(o.results[0].error, undefined);
  } finally {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
