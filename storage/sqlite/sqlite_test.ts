import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { runStoreConformance, type StoreFixture } from "../../tests/lib/store_conformance.ts";
import type { Store } from "../mod.ts";
import { openSqliteStore, type SqliteStore } from "./store.ts";
import { benchDeliver } from "../../tests/lib/store_bench.ts";
import { openStore } from "../open.ts";
import { type BlobFixture, runBlobStoreConformance } from "../../tests/lib/blob_conformance.ts";
import { Statements } from "./rows.ts";
import { bodies } from "./blobs.ts";

/** A store in a fresh temp dir; `reopen` opens the same file again. */
async function fixture(
  inlineWrites: boolean,
): Promise<StoreFixture & { store: SqliteStore; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-sqlite-" });
  const path = join(dir, "denomail.db");
  let current = await openSqliteStore(path, { inlineWrites });
  return {
    store: current,
    path,
    async reopen(): Promise<Store> {
      await current.close();
      current = await openSqliteStore(path, { inlineWrites });
      return current;
    },
    async cleanup() {
      await current.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("sqlite store conformance (writer worker)", async (t) => {
  await runStoreConformance(t, () => fixture(false));
});

Deno.test("sqlite store conformance (inline writer)", async (t) => {
  await runStoreConformance(t, () => fixture(true));
});

Deno.test("sqlite writer groups concurrent writes into few commits", async (t) => {
  for (const inlineWrites of [false, true]) {
    await t.step(inlineWrites ? "inline" : "worker", async () => {
      const fx = await fixture(inlineWrites);
      try {
        const { store } = fx;
        const account = await store.createAccount("a@example.test", "h");
        const before = store.commitCount;
        const body = new Uint8Array(10 * 1024).fill(65);
        const placed = await Promise.all(
          Array.from(
            { length: 200 },
            () => store.deliver(body, [{ accountId: account.id, mailbox: "INBOX" }]),
          ),
        );
        const commits = store.commitCount - before;
        assert.equal(new Set(placed.map((p) => p[0].uid)).size, 200);
        // All 200 are queued in the same tick: they fit one batch (at most 512 per batch).
        assert.ok(commits >= 1 && commits <= 5, `200 delivers took ${commits} commits`);
      } finally {
        await fx.cleanup();
      }
    });
  }
});

Deno.test("sqlite blob refcounts and mailbox counters stay exact", async () => {
  const fx = await fixture(true);
  try {
    const { store } = fx;
    const a = await store.createAccount("a@example.test", "h");
    const inbox = (await store.getMailbox(a.id, "INBOX"))!;
    const other = await store.createMailbox(a.id, "Other");
    const body = new TextEncoder().encode("Subject: x\r\n\r\nhi\r\n");
    const [p] = await store.deliver(body, [
      { accountId: a.id, mailbox: "INBOX" },
      { accountId: a.id, mailbox: "Other", flags: ["\\Seen"] },
    ]);
    await store.copyMessages(inbox.id, [p.uid], other.id);
    await store.moveMessages(other.id, [1], inbox.id);
    const { blobId } = (await store.listMessages(inbox.id))[0];
    // Four references were made and two remain: the bytes are still there.
    assert.deepEqual(await store.readBlob(blobId), body);
    await store.renameMailbox(inbox.id, "Moved");
    await store.deleteMailbox((await store.getMailbox(a.id, "Moved"))!.id);
    assert.deepEqual(await store.readBlob(blobId), body);
    await store.deleteMailbox(other.id);
    await assert.rejects(store.readBlob(blobId), /no such blob/);
    // Counters kept by triggers equal a full count.
    const st = await store.mailboxStatus(inbox.id);
    assert.deepEqual([st.messages, st.unseen, st.size], [0, 0, 0]);
  } finally {
    await fx.cleanup();
  }
});

Deno.test("sqlite listMessages and mailboxStatus on a 100,000-message mailbox", async () => {
  const fx = await fixture(true);
  try {
    const { store } = fx;
    const a = await store.createAccount("big@example.test", "h");
    const inbox = (await store.getMailbox(a.id, "INBOX"))!;
    const body = new TextEncoder().encode("Subject: x\r\n\r\nhi\r\n");
    const [p] = await store.deliver(body, [{ accountId: a.id, mailbox: "INBOX" }]);
    // Fill quickly: copy the one message in doubling steps (one transaction each).
    let have = 1;
    while (have < 100_000) {
      const n = Math.min(have, 100_000 - have);
      await store.copyMessages(inbox.id, Array.from({ length: n }, (_, i) => p.uid + i), inbox.id);
      have += n;
    }
    await store.updateFlags({ mailboxId: inbox.id, uids: [1, 2, 3], op: "add", flags: ["\\Seen"] });
    let t0 = performance.now();
    const list = await store.listMessages(inbox.id);
    const listMs = performance.now() - t0;
    assert.equal(list.length, 100_000);
    t0 = performance.now();
    const st = await store.mailboxStatus(inbox.id);
    const statusMs = performance.now() - t0;
    assert.equal(st.messages, 100_000);
    assert.equal(st.unseen, 99_997);
    assert.equal(st.firstUnseen, 4);
    console.log(
      `listMessages(100k): ${listMs.toFixed(1)} ms, mailboxStatus: ${statusMs.toFixed(2)} ms`,
    );
    assert.ok(listMs < 2000, `listMessages took ${listMs} ms`);
    assert.ok(statusMs < 50, `mailboxStatus took ${statusMs} ms`);
  } finally {
    await fx.cleanup();
  }
});

Deno.test("sqlite errors cross the worker boundary as StoreError", async () => {
  const fx = await fixture(false);
  try {
    await fx.store.createAccount("a@example.test", "h");
    await assert.rejects(fx.store.createAccount("A@example.test", "h"), (e: unknown) => {
      assert.equal((e as Error).name, "StoreError");
      assert.equal((e as { code: string }).code, "exists");
      return true;
    });
  } finally {
    await fx.cleanup();
  }
});

Deno.test("sqlite writes after close are refused", async () => {
  const fx = await fixture(false);
  await fx.store.close();
  await assert.rejects(fx.store.kvSet("a", "b", "c"), /closed/);
  await assert.rejects(fx.store.kvGet("a", "b"), /closed/);
  await fx.cleanup();
});

Deno.test("openStore: sqlite in dataDir; postgres needs a url", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-open-" });
  try {
    const dataDir = join(dir, "nested", "data");
    const store = await openStore({ backend: "sqlite", dataDir, inlineWrites: true });
    await store.addDomain("example.test");
    await store.close();
    assert.ok((await Deno.stat(join(dataDir, "denomail.db"))).isFile);
    await assert.rejects(
      openStore({ backend: "postgres", dataDir, url: null }),
      /storage.backend = postgres needs storage.url/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite benchDeliver runs", async () => {
  const r = await benchDeliver({ messages: 200, concurrency: 20 });
  assert.equal(r.messages, 200);
  assert.ok(r.msgsPerSec > 0);
  assert.ok(r.commits < 200, `${r.commits} commits for 200 messages`);
});

Deno.test("sqlite worker: an uncloneable request fails alone", async () => {
  const fx = await fixture(false);
  try {
    const { store } = fx;
    const entry = (meta: Record<string, unknown>) => ({
      sender: "a@example.test",
      recipients: [{ address: "b@remote.test", status: "pending" as const }],
      nextAttemptAt: 0,
      meta,
    });
    const results = await Promise.allSettled([
      store.enqueue(new Uint8Array([1]), entry({ ok: 1 })),
      store.enqueue(new Uint8Array([2]), entry({ bad: () => 1 })),
      store.kvSet("n", "k", "v"),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal(await store.kvGet("n", "k"), "v");
    assert.equal((await store.listQueue()).length, 1);
  } finally {
    await fx.cleanup();
  }
});

Deno.test("sqlite threads: mail stored before the thread tables is threaded on upgrade", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-sqlite-" });
  const path = join(dir, "denomail.db");
  try {
    const store = await openSqliteStore(path, { inlineWrites: true });
    const a = await store.createAccount("old@example.test", "hash");
    const enc = (h: string) => new TextEncoder().encode(`${h}\r\n\r\nbody\r\n`);
    const to = [{ accountId: a.id, mailbox: "INBOX" }];
    await store.deliver(enc("Subject: Hi\r\nMessage-ID: <h@x>"), to);
    await store.deliver(enc("Subject: Re: Hi\r\nIn-Reply-To: <h@x>"), to);
    await store.close();
    // What a database from before the migration looks like: no thread rows, backfill due.
    const db = new DatabaseSync(path);
    db.exec("DELETE FROM email_threads; DELETE FROM thread_message_ids");
    db.exec("INSERT INTO meta (key, value) VALUES ('threads_backfill', 1)");
    db.close();
    const s2 = await openSqliteStore(path, { inlineWrites: true });
    const copies = await s2.accountCopies(a.id);
    await s2.close();
    assert.equal(copies.length, 2);
    assert.equal(copies[0].threadId, copies[1].threadId);
    assert.equal(copies[0].threadId, Math.min(copies[0].blobId, copies[1].blobId));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite blob store conformance", async (t) => {
  await runBlobStoreConformance(t, async (): Promise<BlobFixture<Statements>> => {
    const fx = await fixture(false);
    // A second connection to the same file (WAL), as the store's reader is.
    const db = new DatabaseSync(fx.path);
    db.exec("PRAGMA busy_timeout = 10000");
    const sql = new Statements(db);
    return {
      store: fx.store,
      blobs: bodies,
      async inTx(fn) {
        db.exec("BEGIN IMMEDIATE");
        try {
          const r = await fn(sql);
          db.exec("COMMIT");
          return r;
        } catch (e) {
          db.exec("ROLLBACK");
          throw e;
        }
      },
      stored: () =>
        Promise.resolve(Number(db.prepare("SELECT count(*) AS n FROM blob_bodies").get()!.n)),
      async cleanup() {
        db.close();
        await fx.cleanup();
      },
    };
  });
});
