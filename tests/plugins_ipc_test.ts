/**
 * Process mode talks to each runner over a loopback socket; the runner's first preload
 * connects and revokes the net grant it had for that socket before the plugin loads.
 * A plugin must not hold that grant (nor reach the socket), at load time or in a call,
 * and a grant the admin gave it for another host stays.
 */
import assert from "node:assert/strict";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";

const probe = new URL("./fixtures/plugins/ipc_probe.ts", import.meta.url).pathname;

for (const net of [[], ["example.com"]]) {
  Deno.test(`plugin ipc: the runner socket is not the plugin's (net = ${JSON.stringify(net)})`, async () => {
    const dir = await Deno.makeTempDir();
    const config = configFromObject(
      { data_dir: dir, plugins: [{ name: "probe", module: probe, permissions: { net } }] },
      dir,
    );
    const host = await PluginHost.start(config, { strict: true, process: { sandbox: "process" } });
    try {
      const o = await host.run("rcpt", {
        session: { id: "t1", remoteIp: "127.0.0.1", tls: false },
        sender: { address: "a@b.test", local: "a", domain: "b.test" },
        rcpt: { address: "c@d.test", local: "c", domain: "d.test" },
        recipients: [],
      });
      assert.equal(o.action, "reject");
      const other = net.length > 0 ? "granted" : "prompt";
      assert.equal(o.text, `NotCapable(prompt) NotCapable(prompt) ${other}`);
    } finally {
      await host.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
