/**
 * The directory cache (directory_cache.ts) across two store instances on one database, as
 * two nodes: a change made through one is seen by the other (NOTIFY), a change made by this
 * one at once, and a lost LISTEN connection disables the cache until it is back.
 */
import assert from "node:assert/strict";
import { skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import { openPostgresStore } from "./store.ts";
import { connect } from "./rows.ts";
import { DirectoryCache } from "./directory_cache.ts";

/** Polls `check` until it holds (a deadline, not a fixed sleep). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "postgres directory cache: changes through another node and this one are seen",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    // Entries live longer than the test: only notifications and lost connections drop them.
    const opts = { maxConnections: 2, directoryTtlMs: 3_600_000 };
    const a = await openPostgresStore(pg.url, opts);
    const b = await openPostgresStore(pg.url, opts);
    const db = connect(pg.url, { max: 1 });
    try {
      // A reads (and caches) answers, until its cache is listening.
      await eventually(async () => {
        await a.hasDomain("d.test");
        await a.getAccount("u@d.test");
        await a.getAlias("x@d.test");
        const [r] = await db`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE query = 'LISTEN denomail_directory'`;
        return r.n === 2;
      }, "both caches listening");
      assert.equal(await a.hasDomain("d.test"), false);
      assert.equal(await a.getAccount("u@d.test"), null);
      // Changed through B: A sees each change once it is announced.
      await b.addDomain("d.test");
      await eventually(() => a.hasDomain("d.test"), "domain seen by A");
      await b.createAccount("u@d.test", "h1");
      await eventually(async () => (await a.getAccount("u@d.test"))?.passwordHash === "h1", "A");
      await b.setPasswordHash("u@d.test", "h2");
      await eventually(async () => (await a.getAccount("u@d.test"))?.passwordHash === "h2", "A");
      await b.setAlias("x@d.test", ["u@d.test"]);
      await eventually(async () => (await a.getAlias("x@d.test"))?.[0] === "u@d.test", "A");
      // Changed through A itself: seen at once (no waiting for the notification).
      await a.removeAlias("x@d.test");
      assert.equal(await a.getAlias("x@d.test"), null);
      await a.removeAccount("u@d.test");
      assert.equal(await a.getAccount("u@d.test"), null);
      // Changed by another client entirely (SQL): announced by the triggers too.
      assert.equal(await a.hasDomain("d.test"), true);
      await db`DELETE FROM domains WHERE name = 'd.test'`;
      await eventually(async () => !(await a.hasDomain("d.test")), "domain removal seen by A");
      // A's LISTEN connection killed: answers come from the database while it is down.
      await a.hasDomain("e.test"); // cached: false
      await db`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE query = 'LISTEN denomail_directory' AND pid <> pg_backend_pid()`;
      await db`INSERT INTO domains (name, created_at) VALUES ('e.test', 0)`;
      await eventually(() => a.hasDomain("e.test"), "domain added while A's LISTEN was down");
    } finally {
      await db.end();
      await a.close();
      await b.close();
      await pg.stop();
    }
  },
});

Deno.test("postgres directory cache: without its LISTEN connection every read goes to the database", async () => {
  // Nothing listens on this port: the cache can never hear of a change, so it must not keep
  // an answer (a missed notification would leave it stale).
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr;
  l.close();
  const cache = new DirectoryCache(`postgres://nobody@127.0.0.1:${port}/none`, 3_600_000);
  try {
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    assert.equal(await cache.get("d:x.test", load), 1);
    assert.equal(await cache.get("d:x.test", load), 2, "not served from the cache");
  } finally {
    await cache.close();
  }
});
