import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { Router, type RouteResult } from "./router.ts";

/** A router over a fresh SQLite store with example.test, alice and bob. */
async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "denomail-router-" });
  const store = await openSqliteStore(join(dir, "denomail.db"), { inlineWrites: true });
  await store.addDomain("example.test");
  const alice = await store.createAccount("alice@example.test", "x");
  const bob = await store.createAccount("bob@example.test", "x");
  return {
    store,
    router: new Router(store),
    alice,
    bob,
    async cleanup() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function summary(r: RouteResult): string {
  if (r.kind === "reject") return `${r.code} ${r.enhanced}`;
  return [...r.local.map((l) => l.email), ...r.remote].sort().join(",");
}

Deno.test("router: alias loops", async (t) => {
  const f = await fixture();
  const resolve = async (a: string) => summary(await f.router.resolve(a, { mayRelay: false }));
  try {
    await t.step("a -> b -> a reaches no one: 550 5.4.6, not an empty delivery", async () => {
      await f.store.setAlias("a@example.test", ["b@example.test"]);
      await f.store.setAlias("b@example.test", ["a@example.test"]);
      assert.equal(await resolve("a@example.test"), "550 5.4.6");
      assert.equal(await resolve("b@example.test"), "550 5.4.6");
    });

    await t.step("self -> self: 550 5.4.6", async () => {
      await f.store.setAlias("self@example.test", ["self@example.test"]);
      assert.equal(await resolve("self@example.test"), "550 5.4.6");
      assert.equal(await resolve("SELF+tag@example.test"), "550 5.4.6");
    });

    await t.step("a loop with an exit delivers to what the expansion reaches", async () => {
      await f.store.setAlias("c@example.test", ["d@example.test", "alice@example.test"]);
      await f.store.setAlias("d@example.test", ["c@example.test", "far@remote.test"]);
      assert.equal(await resolve("c@example.test"), "alice@example.test,far@remote.test");
      assert.equal(await resolve("d@example.test"), "alice@example.test,far@remote.test");
    });

    await t.step("a diamond is not a loop: both branches count once", async () => {
      await f.store.setAlias("team@example.test", ["x@example.test", "y@example.test"]);
      await f.store.setAlias("x@example.test", ["bob@example.test"]);
      await f.store.setAlias("y@example.test", ["x@example.test", "alice@example.test"]);
      assert.equal(await resolve("team@example.test"), "alice@example.test,bob@example.test");
    });

    await t.step("a looping alias falls through to the catch-all", async () => {
      await f.store.setAlias("@example.test", ["bob@example.test"]);
      assert.equal(await resolve("a@example.test"), "bob@example.test");
      await f.store.removeAlias("@example.test");
    });

    await t.step("a chain deeper than the limit is refused as a loop", async () => {
      for (let i = 0; i < 12; i++) {
        await f.store.setAlias(`l${i}@example.test`, [`l${i + 1}@example.test`]);
      }
      await f.store.setAlias("l12@example.test", ["alice@example.test"]);
      assert.equal(await resolve("l0@example.test"), "550 5.4.6");
      assert.equal(await resolve("l5@example.test"), "alice@example.test");
    });

    await t.step("unknown users stay 5.1.1; relaying stays 5.7.1", async () => {
      assert.equal(await resolve("nobody@example.test"), "550 5.1.1");
      assert.equal(await resolve("x@remote.test"), "550 5.7.1");
    });
  } finally {
    await f.cleanup();
  }
});

Deno.test("router: SRS bounces to our domain go back to the original sender; forged ones are refused", async () => {
  const f = await fixture();
  const { Srs } = await import("./srs.ts");
  const srs = new Srs(new TextEncoder().encode("router-test-secret-0123456789abc"));
  const router = new Router(f.store, srs);
  const resolve = async (a: string) => summary(await router.resolve(a, { mayRelay: false }));
  try {
    const remote = srs.forward("carol@elsewhere.example", "example.test")!;
    assert.equal(await resolve(remote), "carol@elsewhere.example", "relayed without auth");
    assert.equal(
      await resolve(srs.forward("alice@example.test", "example.test")!),
      "alice@example.test",
    );
    assert.equal(await resolve(remote.replace("=carol@", "=mallory@")), "550 5.1.1", "forged");
    assert.equal(await resolve("SRS0=abcd=AA=x.example=y@example.test"), "550 5.1.1");
    // Without SRS configured an SRS-looking address is just an unknown user.
    assert.equal(summary(await f.router.resolve(remote, { mayRelay: false })), "550 5.1.1");
  } finally {
    await f.cleanup();
  }
});
