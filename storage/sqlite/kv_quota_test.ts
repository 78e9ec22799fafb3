import assert from "node:assert/strict";
import { join } from "node:path";
import { StoreError } from "../mod.ts";
import { openSqliteStore } from "./store.ts";
import { utf8Length } from "./kv_quota.ts";

const isQuota = (e: unknown) => e instanceof StoreError && e.code === "quota";

Deno.test("kv quota: keys and bytes per namespace, counted across writes and reopen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-kvq-" });
  const path = join(dir, "db.sqlite");
  const quota = { maxKeys: 3, maxBytes: 100 };
  try {
    let store = await openSqliteStore(path);
    await store.kvSet("p", "a", "x".repeat(40), undefined, quota); // 41 bytes
    await store.kvSet("p", "b", "y", undefined, quota); // 2
    await assert.rejects(store.kvSet("p", "c", "z".repeat(60), undefined, quota), isQuota);
    // Replacing a value counts the difference; another namespace has its own room.
    await store.kvSet("p", "a", "x".repeat(90), undefined, quota); // 91 + 2
    await store.kvSet("q", "c", "z".repeat(90), undefined, quota);
    assert.equal(await store.kvIncr("p", "n", 1, undefined, quota), 1); // 3 keys, 95 bytes
    await assert.rejects(store.kvIncr("p", "m", 1, undefined, quota), /kv_max_keys \(3\)/);
    await store.kvDelete("p", "n");
    assert.equal(await store.kvIncr("p", "m", 1, undefined, quota), 1);
    await store.close();
    // Counted again from the table after a restart.
    store = await openSqliteStore(path);
    await assert.rejects(store.kvSet("p", "z", "1", undefined, quota), /kv_max_keys/);
    await assert.rejects(store.kvSet("p", "a", "x".repeat(97), undefined, quota), /kv_max_bytes/);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv quota: expired keys make room for a write that needs it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-kvq-" });
  const store = await openSqliteStore(join(dir, "db.sqlite"));
  const quota = { maxKeys: 2, maxBytes: 1000 };
  try {
    await store.kvSet("p", "short", "1", 1, quota);
    await store.kvSet("p", "long", "2", 60_000, quota);
    await new Promise((r) => setTimeout(r, 5)); // "short" expires
    await store.kvSet("p", "new", "3", undefined, quota);
    assert.deepEqual(await store.kvGetMany("p", ["short", "long", "new"]), [null, "2", "3"]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("utf8Length matches TextEncoder", () => {
  for (const s of ["", "abc", "é", "✓ ok", "😀x", "\u0000", "a\ud800b"]) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
});
