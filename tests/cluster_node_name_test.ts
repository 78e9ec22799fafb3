/**
 * `[cluster] node` names one live process (core/node_lease.ts), with real `serve` processes
 * on a private PostgreSQL cluster: a second process started under a live node's name is
 * refused (exit 2, one line naming cluster.node); once the first is killed -9, a process
 * with that name takes it over when the dead one's lease has run out; a graceful stop gives
 * the name up at once. Ignored, with the reason printed, when PostgreSQL is not installed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { skipPostgres } from "./lib/postgres.ts";
import { startCluster } from "./lib/cluster.ts";
import { cli, configToml, startServerProcess } from "./lib/server_process.ts";

Deno.test({
  name: "cluster: two live processes never share one cluster.node name",
  ignore: skipPostgres(),
  async fn() {
    const tables = `node_lease = "3s"\n`;
    const cluster = await startCluster({ names: ["a"], listen: ["imap"], users: [], tables });
    const dir = await Deno.makeTempDir({ prefix: "denomail-node-twin-" });
    try {
      const [a] = cluster.nodes;
      const twin = `${dir}/denomail.toml`;
      await Deno.writeTextFile(
        twin,
        configToml(`${dir}/data`, ["imap"], {
          tables: `[storage]\nbackend = "postgres"\nurl = "${cluster.pg.url}"\n` +
            `[cluster]\nnode = "a"\n${tables}`,
        }),
      );

      // Bounded: without the guard the twin would serve on and never exit.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const refused = await Promise.race([
        cli(["serve", "--config", twin]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("the twin did not exit")), 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(refused.code, 2, refused.stderr);
      const last = refused.stderr.trim().split("\n").at(-1)!;
      assert.match(last, /^denomail: cluster\.node "a" is in use by another running node/);
      assert.doesNotMatch(refused.stderr, /listening on/, "it never opened a listener");

      // The holder dies without a goodbye: the twin waits for its lease, then takes over.
      await a.proc.kill();
      const heir = await startServerProcess(twin, ["imap"]);
      assert.match(heir.log(), /took the name over/);

      // A graceful stop releases the name: the next start does not wait.
      const stopped = await heir.stop();
      assert.equal(stopped.code, 0);
      const next = await startServerProcess(twin, ["imap"]);
      assert.doesNotMatch(next.log(), /waiting for its lease/);
      await next.stop();
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
