/** The outbound CLI commands: dkim generate, dns, queue list|retry|drop|flush. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { openConfiguredStore } from "../app/store.ts";

Deno.test("cli: dkim, dns and queue commands", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-outcli-" });
  const path = join(dir, "denomail.toml");
  await Deno.writeTextFile(path, `hostname = "mx.a.test"\ndata_dir = "${dir}/data"\n`);
  try {
    let txt = "";
    await t.step("dkim generate writes a key and prints its TXT record", async () => {
      const r = await cli(["dkim", "generate", "a.test", "--selector", "s1", "--config", path]);
      assert.equal(r.code, 0, r.stderr);
      const m = /^s1\._domainkey\.a\.test\.\tTXT\t(.*)$/m.exec(r.stdout);
      assert.ok(m, r.stdout);
      txt = m[1];
      assert.match(txt, /^"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+/);
      const st = await Deno.stat(join(dir, "data", "dkim", "a.test.json"));
      assert.equal(st.mode! & 0o777, 0o600);
      const again = await cli(["dkim", "generate", "a.test", "--config", path]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already has a DKIM key/);
      const bad = await cli([
        "dkim",
        "generate",
        "a.test",
        "--selector",
        "bad_sel",
        "--config",
        path,
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--selector/);
    });

    await t.step("dns prints MX, SPF, DKIM and DMARC", async () => {
      const r = await cli(["dns", "a.test", "--config", path]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^a\.test\.\tMX\t10 mx\.a\.test\.$/m);
      assert.match(r.stdout, /^a\.test\.\tTXT\t"v=spf1 mx -all"$/m);
      assert.ok(r.stdout.includes(`s1._domainkey.a.test.\tTXT\t${txt}`));
      assert.match(r.stdout, /^_dmarc\.a\.test\.\tTXT\t"v=DMARC1; /m);
    });

    await t.step("queue list, retry, flush, drop", async () => {
      const config = configFromObject({ data_dir: join(dir, "data") }, dir);
      const store = await openConfiguredStore(config, { inlineWrites: true });
      const far = Date.now() + 3_600_000;
      const e = await store.enqueue(new TextEncoder().encode("Subject: q\r\n\r\nx\r\n"), {
        sender: "alice@a.test",
        recipients: [{ address: "bob@b.test", status: "pending" }],
        nextAttemptAt: far,
        meta: {},
      });
      await store.close();
      const list = await cli(["queue", "list", "--config", path]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(
        list.stdout,
        new RegExp(`^${e.id}\\t.*from=<alice@a\\.test>\\tbob@b\\.test\\(pending\\)`, "m"),
      );
      const retry = await cli(["queue", "retry", String(e.id), "--config", path]);
      assert.equal(retry.code, 0, retry.stderr);
      const flush = await cli(["queue", "flush", "--config", path]);
      assert.equal(flush.code, 0, flush.stderr);
      assert.match(flush.stdout, /^1 queue entry will be retried now$/m);
      const check = await openConfiguredStore(config, { inlineWrites: true });
      const got = await check.getQueueEntry(e.id);
      await check.close();
      assert.ok(got && got.nextAttemptAt <= Date.now());
      const drop = await cli(["queue", "drop", String(e.id), "--config", path]);
      assert.equal(drop.code, 0, drop.stderr);
      const empty = await cli(["queue", "list", "--config", path]);
      assert.match(empty.stdout, /queue is empty/);
      const missing = await cli(["queue", "drop", "999", "--config", path]);
      assert.equal(missing.code, 1);
      const bad = await cli(["queue", "retry", "abc", "--config", path]);
      assert.equal(bad.code, 2);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
