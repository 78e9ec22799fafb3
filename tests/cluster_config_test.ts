/**
 * `[cluster]` and `storage migrate` as an admin meets them: bad values exit 2 with one line
 * naming the key or argument; the defaults (node = the machine's host name, a 60 s lease).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./lib/server_process.ts";
import { parseConfig } from "../core/config.ts";

async function withConfig(extra: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "denomail-cluster-cfg-" });
  const path = join(dir, "denomail.toml");
  await Deno.writeTextFile(path, `data_dir = "${dir}/data"\n${extra}`);
  try {
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cluster config: defaults, and bad values exit 2 naming the key", async (t) => {
  await t.step("defaults", () => {
    const c = parseConfig("", "/tmp");
    assert.equal(c.cluster.node, Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64));
    assert.equal(c.cluster.queueLeaseMs, 60_000);
    assert.equal(c.cluster.nodeLeaseMs, 15_000);
    assert.equal(
      parseConfig(`[cluster]\nnode = "b-2"\nqueue_lease = "5s"\n`, "/tmp").cluster.node,
      "b-2",
    );
  });
  for (
    const [toml, want] of [
      [`[cluster]\nnode = "a b"\n`, /cluster\.node must be/],
      [`[cluster]\nqueue_lease = "1s"\n`, /cluster\.queue_lease must be at least/],
      [`[cluster]\nnode_lease = "1s"\n`, /cluster\.node_lease must be at least/],
      [`[cluster]\nnodes = "a"\n`, /unknown key cluster\.nodes/],
    ] as const
  ) {
    await t.step(toml.trim().replace("\n", " "), async () => {
      await withConfig(toml, async (path) => {
        const r = await cli(["serve", "--config", path]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, want);
        assert.equal(r.stderr.trim().split("\n").length, 1);
      });
    });
  }
  await t.step("storage migrate --to must be a postgres:// URL", async () => {
    await withConfig("", async (path) => {
      const r = await cli(["storage", "migrate", "--to", "mysql://h/db", "--config", path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--to must be postgres:\/\//);
    });
  });
});
