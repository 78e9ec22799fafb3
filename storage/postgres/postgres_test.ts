/**
 * The PostgreSQL store against a private cluster (tests/lib/postgres.ts): the same Store
 * conformance suite as SQLite, unchanged, and what only several writers can show. Without
 * PostgreSQL installed these tests are ignored, and say why.
 */
import assert from "node:assert/strict";
import { runStoreConformance, type StoreFixture } from "../../tests/lib/store_conformance.ts";
import { type PostgresCluster, skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import type { Store } from "../mod.ts";
import { openStore } from "../open.ts";
import { openPostgresStore } from "./store.ts";
import { verifyPostgres } from "./verify.ts";
import { connect, type Row } from "./rows.ts";
import { bodies, type Run } from "./blob_store.ts";
import { type BlobFixture, runBlobStoreConformance } from "../../tests/lib/blob_conformance.ts";
import { parseMime } from "../../mime/mod.ts";
import { bodyText, headerText } from "../../mime/search_text.ts";
import { generateMessages } from "../../bench/corpus.ts";

const ignore = skipPostgres();

/** Runs `fn` with a private cluster, stopped afterwards whatever happens. */
async function withCluster(
  fn: (pg: PostgresCluster) => Promise<void>,
  opts: { tls?: boolean } = {},
): Promise<void> {
  const pg = await startPostgres(opts);
  try {
    await fn(pg);
  } finally {
    await pg.stop();
  }
}

Deno.test({
  name: "postgres store conformance",
  ignore,
  fn: (t) =>
    withCluster(async (pg) => {
      let n = 0;
      await runStoreConformance(t, async (): Promise<StoreFixture> => {
        const url = await pg.createDatabase(`conformance_${++n}`);
        let current: Store = await openPostgresStore(url);
        return {
          store: current,
          async reopen() {
            await current.close();
            current = await openPostgresStore(url);
            return current;
          },
          async cleanup() {
            await current.close();
          },
        };
      });
    }),
});

Deno.test({
  name: "postgres blob store conformance",
  ignore,
  fn: (t) =>
    withCluster(async (pg) => {
      let n = 0;
      await runBlobStoreConformance(t, async (): Promise<BlobFixture<Run>> => {
        const url = await pg.createDatabase(`blobs_${++n}`);
        const store = await openPostgresStore(url);
        const db = connect(url, { max: 2 });
        return {
          store,
          blobs: bodies,
          inTx: async <T>(fn: (tx: Run) => T | Promise<T>): Promise<T> => {
            let out: T;
            await db.begin(async (tx) => {
              out = await fn((t, p) => tx.unsafe(t, p as never[]) as unknown as Promise<Row[]>);
            });
            return out!;
          },
          stored: async () => Number((await db`SELECT count(*) AS n FROM blob_bodies`)[0].n),
          async cleanup() {
            await db.end();
            await store.close();
          },
        };
      });
    }),
});

Deno.test({
  name: "postgres: two stores on one database deliver into one mailbox at once",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      // Two instances, as two nodes would have: separate pools, one database, opened at once
      // on an empty database (one of them creates the schema, the other waits for it).
      const [a, b] = await Promise.all([
        openPostgresStore(pg.url, { maxConnections: 5 }),
        openPostgresStore(pg.url, { maxConnections: 5 }),
      ]);
      try {
        const account = await a.createAccount("race@example.test", "h");
        const inbox = (await b.getMailbox(account.id, "INBOX"))!;
        const target = [{ accountId: account.id, mailbox: "INBOX" }];
        const body = (i: number) => new TextEncoder().encode(`Subject: ${i}\r\n\r\nbody ${i}\r\n`);
        const before = (await a.mailboxStatus(inbox.id)).highestModseq;
        const placed = await Promise.all(
          Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).deliver(body(i), target)),
        );
        const got = placed.map((p) => p[0].uid).sort((x, y) => x - y);
        assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i + 1), "1..200, no dupes");
        const list = await a.listMessages(inbox.id);
        assert.deepEqual(list.map((m) => m.uid), got);
        // Modseqs rise with the UIDs: each delivery committed in UID order.
        for (let i = 1; i < list.length; i++) assert.ok(list[i].modseq > list[i - 1].modseq);
        const st = await b.mailboxStatus(inbox.id);
        assert.equal(st.messages, 200);
        assert.equal(st.uidNext, 201);
        assert.equal(st.highestModseq, before + 200);
        // Each UID holds the bytes its deliver sent.
        for (const [i, p] of placed.entries()) {
          if (i % 37 !== 0) continue;
          const [m] = await b.getMessages(inbox.id, [p[0].uid]);
          assert.deepEqual(await a.readBlob(m.blobId), body(i));
        }
      } finally {
        await a.close();
        await b.close();
      }
    }),
});

Deno.test({
  name: "postgres: two stores racing past a quota (messages, uploads) store no more than it allows",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const a = await openPostgresStore(pg.url, { maxConnections: 5 });
      const b = await openPostgresStore(pg.url, { maxConnections: 5 });
      try {
        const account = await a.createAccount("quota@example.test", "h");
        const msg = (i: number) =>
          new TextEncoder().encode(`Subject: ${i}\r\n\r\n${"x".repeat(90)}`);
        const size = msg(10).byteLength; // every message below is this size
        await a.setQuota(account.email, size * 10);
        const target = [{ accountId: account.id, mailbox: "INBOX" }];
        const results = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).deliver(msg(i + 10), target)),
        );
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 10);
        assert.equal(await b.accountUsage(account.id), size * 10);
        // The JMAP upload cap is checked under the same account lock.
        const uploads = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? a : b).storeUpload(account.id, new Uint8Array(100), {
              type: "x/y",
              maxAccountBytes: 500,
            })),
        );
        assert.equal(
          uploads.filter((r) =>
            r.status === "fulfilled"
          ).length,
          5,
        );
      } finally {
        await a.close();
        await b.close();
      }
    }),
});

Deno.test({
  name: "postgres: concurrent deliveries committed together keep their own answers",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const a = await openPostgresStore(pg.url, { maxConnections: 5 });
      const db = connect(pg.url);
      try {
        const account = await a.createAccount("batch@example.test", "h");
        const inbox = (await a.getMailbox(account.id, "INBOX"))!;
        const msg = (i: number) =>
          new TextEncoder().encode(`Subject: ${i}\r\n\r\n${"x".repeat(90)}`);
        const size = msg(10).byteLength;
        await a.setQuota(account.email, size * 15);
        // Deliveries that fit, that the quota refuses, and for no account, all at once.
        const results = await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) =>
            a.deliver(msg(i + 10), [{
              accountId: i % 3 === 2 ? 999999 : account.id,
              mailbox: "INBOX",
            }])),
        );
        const placed = results.flatMap((r) => r.status === "fulfilled" ? r.value : []);
        assert.equal(placed.length, 15);
        const refused = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
        assert.equal(refused.filter((e) => e.code === "quota").length, 25);
        assert.equal(refused.filter((e) => e.code === "not_found").length, 20);
        // UIDs 1..15, each once; the mailbox holds exactly those, and no blob is orphaned.
        assert.deepEqual(placed.map((p) => p.uid).sort((x, y) => x - y), [
          ...Array.from({ length: 15 }, (_, i) => i + 1),
        ]);
        assert.deepEqual(
          (await a.listMessages(inbox.id)).map((m) => m.uid),
          placed.map((p) => p.uid).sort((x, y) => x - y),
        );
        assert.equal(await a.accountUsage(account.id), size * 15);
        const [orphans] = await db`SELECT count(*)::int AS n FROM blobs WHERE refs <= 0`;
        assert.equal(orphans.n, 0);
        // Each stored message's search text is made or waiting; the refused left nothing.
        const [texts] = await db`SELECT (SELECT count(*) FROM blob_text) +
          (SELECT count(*) FROM search_pending)::int AS n`;
        assert.equal(texts.n, 15);
        // Closing a store: deliveries handed in before still commit; later ones are refused.
        const b = await openPostgresStore(pg.url, { maxConnections: 5 });
        const other = await b.createAccount("close@example.test", "h");
        const to = [{ accountId: other.id, mailbox: "INBOX" }];
        const before = Array.from({ length: 20 }, (_, i) => b.deliver(msg(i), to));
        await b.close();
        assert.equal((await Promise.all(before)).length, 20);
        await assert.rejects(b.deliver(msg(0), to), /closed/);
        const otherInbox = (await a.getMailbox(other.id, "INBOX"))!;
        assert.equal((await a.listMessages(otherInbox.id)).length, 20);
      } finally {
        await db.end({ timeout: 1 });
        await a.close();
      }
    }),
});

Deno.test({
  name: "postgres change log: a reader polling while two stores write never misses a record",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const a = await openPostgresStore(pg.url, { maxConnections: 5 });
      const b = await openPostgresStore(pg.url, { maxConnections: 5 });
      try {
        const account = await a.createAccount("log@example.test", "h");
        const inbox = (await a.getMailbox(account.id, "INBOX"))!;
        const target = [{ accountId: account.id, mailbox: "INBOX" }];
        const body = (i: number) => new TextEncoder().encode(`Subject: ${i}\r\n\r\n${i}\r\n`);
        // A JMAP client: remembers the last id it saw and asks for what came after.
        const seen = new Set<number>();
        let last = 0;
        let writing = true;
        const poll = async () => {
          while (writing) {
            for (const r of await a.changeLogSince(account.id, "email", last, 1000)) {
              seen.add(r.id);
              last = r.id;
            }
          }
        };
        const poller = poll();
        try {
          await Promise.all(
            Array.from({ length: 120 }, async (_, i) => {
              const store = i % 2 ? a : b;
              const [p] = await store.deliver(body(i), target);
              if (i % 3 === 0) {
                await store.updateFlags({
                  mailboxId: inbox.id,
                  uids: [p.uid],
                  op: "add",
                  flags: ["\\Seen"],
                });
              }
            }),
          );
        } finally {
          writing = false;
          await poller;
        }
        const all = await b.changeLogSince(account.id, "email", 0, 10_000);
        assert.equal(all.length, 160);
        for (const r of all) {
          if (r.id <= last) assert.ok(seen.has(r.id), `record ${r.id} below ${last} was missed`);
        }
      } finally {
        await a.close();
        await b.close();
      }
    }),
});

Deno.test({
  name: "postgres: deliveries and STORE \\Seen on one account at once never deadlock",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const a = await openPostgresStore(pg.url, { maxConnections: 5 });
      const b = await openPostgresStore(pg.url, { maxConnections: 5 });
      try {
        const account = await a.createAccount("seen@example.test", "h");
        const inbox = (await a.getMailbox(account.id, "INBOX"))!;
        const target = [{ accountId: account.id, mailbox: "INBOX" }];
        const body = (i: number) => new TextEncoder().encode(`Subject: ${i}\r\n\r\n${i}\r\n`);
        const started = Date.now();
        // Each deadlock would cost PostgreSQL's deadlock_timeout (1 s) and a retry.
        await Promise.all(Array.from({ length: 40 }, async (_, i) => {
          const store = i % 2 ? a : b;
          const [p] = await store.deliver(body(i), target);
          await store.updateFlags({
            mailboxId: inbox.id,
            uids: [p.uid],
            op: "add",
            flags: ["\\Seen"],
          });
        }));
        assert.equal((await a.mailboxStatus(inbox.id)).unseen, 0);
        assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      } finally {
        await a.close();
        await b.close();
      }
    }),
});

Deno.test({
  name: "postgres threads: mail stored before the thread tables is threaded on upgrade; NUL ids",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      let store = await openPostgresStore(pg.url);
      try {
        const a = await store.createAccount("old@example.test", "hash");
        const enc = (h: string) => new TextEncoder().encode(`${h}\r\n\r\nbody\r\n`);
        const to = [{ accountId: a.id, mailbox: "INBOX" }];
        await store.deliver(enc("Subject: Hi\r\nMessage-ID: <h@x>"), to);
        await store.deliver(enc("Subject: Re: Hi\r\nIn-Reply-To: <h@x>"), to);
        // Text cannot hold NUL: such ids and subjects are skipped or replaced, never refused.
        await store.deliver(enc("Subject: N\u0000ul\r\nMessage-ID: <n\u0000@x>"), to);
        await store.close();
        // What a database from before the migration looks like: no thread rows, backfill due.
        const db = connect(pg.url, { max: 1 });
        await db`DELETE FROM email_threads`;
        await db`DELETE FROM thread_message_ids`;
        await db`INSERT INTO meta (key, value) VALUES ('threads_backfill', 1)`;
        await db.end();
        store = await openPostgresStore(pg.url);
        const copies = (await store.accountCopies(a.id)).sort((x, y) => x.blobId - y.blobId);
        assert.equal(copies.length, 3);
        assert.equal(copies[0].threadId, copies[0].blobId);
        assert.equal(copies[1].threadId, copies[0].blobId);
        assert.equal(copies[2].threadId, copies[2].blobId);
      } finally {
        await store.close();
      }
    }),
});

Deno.test({
  name: "openStore: backend postgres opens the database at url; a newer schema is refused",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const store = await openStore({ backend: "postgres", dataDir: "/nonexistent", url: pg.url });
      try {
        await store.addDomain("example.test");
        assert.equal(await store.hasDomain("EXAMPLE.test"), true);
        // kv names holding NUL cannot be stored in PostgreSQL text: refused, never found.
        await assert.rejects(store.kvSet("ns", "a\u0000b", "v"), /NUL/);
        assert.equal(await store.kvGet("ns", "a\u0000b"), null);
        assert.deepEqual(await store.kvGetMany!("ns", ["a\u0000b", "x"]), [null, null]);
        // The same bytes appended twice are two blobs (two JMAP Emails), as on SQLite.
        const acc = await store.createAccount("twice@example.test", "h");
        const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
        const bytes = new TextEncoder().encode("Subject: twice\r\n\r\nsame\r\n");
        await store.append(inbox.id, bytes);
        await store.append(inbox.id, bytes);
        const [m1, m2] = await store.listMessages(inbox.id);
        assert.notEqual(m1.blobId, m2.blobId);
        assert.deepEqual(await store.readBlob(m2.blobId), bytes);
      } finally {
        await store.close();
      }
      // A database written by a newer denomail is not touched.
      const db = connect(pg.url, { max: 1 });
      await db`UPDATE schema_version SET version = 99`;
      await db.end();
      await assert.rejects(
        openStore({ backend: "postgres", dataDir: "/nonexistent", url: pg.url }),
        /schema version 99 is newer/,
      );
    }),
});

Deno.test({
  name: "postgres search pre-filter: every message a scan matches is a candidate",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      // The indexer runs when told (search_index.ts): the candidates are checked both ways.
      const store = await openPostgresStore(pg.url, { searchIndexer: false });
      try {
        const enc = new TextEncoder();
        const account = await store.createAccount("fts@example.test", "x");
        const inbox = (await store.getMailbox(account.id, "INBOX"))!;
        const special = [
          "From: RealFrom <user-from@domain.org>\r\nSubject: Quarterly report\r\n\r\nThe numbers.\r\n",
          "From: =?utf-8?q?J=C3=BCrgen?= <j@domain.org>\r\nSubject: hello\r\n\r\nGr\u00fc\u00dfe\r\n",
          "Subject: nul\r\n\r\nbefore\u0000after\r\n",
        ];
        const texts: Array<{ header: string; body: string }> = [];
        for (const m of [...special, ...generateMessages(150)]) {
          const bytes = enc.encode(m.replaceAll(/\r?\n/g, "\r\n"));
          await store.deliver(bytes, [{ accountId: account.id, mailbox: "INBOX" }]);
          const root = parseMime(bytes);
          texts.push({ header: headerText(root), body: bodyText(bytes, root) });
        }
        const search = (part: "header" | "body" | "text", value: string) =>
          store.searchText(inbox.id, { part, value });
        // Substrings of the corpus, and strings it does not hold: candidates cover the scan.
        const coversScan = async () => {
          const words = ["the", "uniq7", "subject: ", "re:", "zzzq", "@", "message", "x"];
          for (const part of ["header", "body", "text"] as const) {
            for (const w of words) {
              const v = w.toLowerCase();
              const truth = texts.flatMap((t, i) => {
                const hit = part === "header"
                  ? t.header.includes(v)
                  : part === "body"
                  ? t.body.includes(v)
                  : t.header.includes(v) || t.body.includes(v);
                return hit ? [i + 1] : [];
              });
              const got = new Set(await search(part, w.toUpperCase()));
              for (const uid of truth) assert.ok(got.has(uid), `${part} ${w}: uid ${uid} missed`);
            }
          }
        };
        await coversScan(); // nothing indexed yet: every message is a candidate
        await store.indexSearchText();
        assert.deepEqual(await search("header", "ser-fro"), [1]);
        assert.deepEqual(await search("header", "J\u00dcRGEN"), [2]); // RFC 2047, any case
        assert.deepEqual(await search("body", "quarterly"), []);
        assert.deepEqual(await search("text", "quarterly"), [1]);
        assert.deepEqual(await search("body", "before after"), [3], "NUL reads as a space");
        assert.equal(await search("body", "a\u0000b"), null, "NUL in a query: the caller scans");
        await coversScan();
      } finally {
        await store.close();
      }
    }),
});

Deno.test({
  name:
    "postgres: ?sslmode=require encrypts; ?sslmode=verify-full refuses an untrusted certificate",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const store = await openPostgresStore(`${pg.url}?sslmode=require`);
      try {
        await store.addDomain("tls.example.test");
        assert.equal(await store.hasDomain("tls.example.test"), true);
      } finally {
        await store.close();
      }
      // The same session's view of its own connection, through the driver directly.
      const db = connect(`${pg.url}?sslmode=require`, { max: 1 });
      try {
        const [r] = await db`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
        assert.equal(r.ssl, true, "the connection is encrypted");
      } finally {
        await db.end();
      }
      // Self-signed: a client that checks certificates must refuse it.
      await assert.rejects(
        openPostgresStore(`${pg.url}?sslmode=verify-full`),
        /certificate|self[- ]signed/i,
      );
    }, { tls: true }),
});

Deno.test({
  name: "postgres: shared bodies — swept by the pruner, checked by verify",
  ignore,
  fn: () =>
    withCluster(async (pg) => {
      const store = await openPostgresStore(pg.url);
      const db = connect(pg.url, { max: 1 });
      try {
        const account = await store.createAccount("bodies@example.test", "h");
        const target = [{ accountId: account.id, mailbox: "INBOX" }];
        const body = "newsletter line\r\n".repeat(400); // 6.8 KB: shared
        const msg = (n: number) => new TextEncoder().encode(`Subject: ${n}\r\n\r\n${body}`);
        const [[p1]] = [await store.deliver(msg(1), target)];
        await store.deliver(msg(2), target);
        const bodies = async () => Number((await db`SELECT count(*) AS n FROM blob_bodies`)[0].n);
        assert.equal(await bodies(), 1);
        const problems: string[] = [];
        const verify = () => {
          problems.length = 0;
          return verifyPostgres(pg.url, { onProblem: (l) => problems.push(l) });
        };
        assert.equal((await verify()).problems, 0, problems.join("\n"));

        // One flipped byte of the shared body: both messages fail their SHA-256, and the body.
        await db`UPDATE blob_bodies SET data = overlay(data PLACING '\\x00'::bytea FROM 10)`;
        await verify();
        assert.equal(problems.filter((l) => /bytes do not match its SHA-256/.test(l)).length, 3);
        // Gone altogether: each message says its body is missing; nothing is "repaired" away.
        await db`DELETE FROM blob_bodies`;
        const r = await verify();
        assert.equal(
          problems.filter((l) => /its shared body [0-9a-f]{64} is missing/.test(l)).length,
          2,
        );
        assert.equal(r.unrepairable, r.problems);
        await assert.rejects(
          store.readBlob((await store.listMessages(p1.mailboxId))[0].blobId),
          /no stored body/,
        );

        // The history pruner (Store.pruneHistory, on a timer in the server) sweeps a body
        // once its last message is gone.
        await store.deliver(msg(3), target);
        assert.equal(await bodies(), 1);
        await store.expunge(
          p1.mailboxId,
          (await store.listMessages(p1.mailboxId)).map((m) => m.uid),
        );
        assert.equal(await bodies(), 1, "kept until the sweep");
        await store.pruneHistory({ expungedKeep: 0, changeLogKeep: 0, auditKeepMs: 0 });
        assert.equal(await bodies(), 0);
      } finally {
        await db.end();
        await store.close();
      }
    }),
});
