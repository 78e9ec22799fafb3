/**
 * The group commit (delivery_batch.ts: one statement a batch). When the statement fails on
 * the server, its transaction rolls back, nothing of the batch is kept, and each delivery is
 * tried again alone — the failing one gets its error, the others commit with UIDs that leave
 * no gap. Refusals inside a batch (quota) are each delivery's own, and what a batch carries
 * (flags, mailbox names, thread headers) arrives intact.
 */
import assert from "node:assert/strict";
import { skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import { openPostgresStore } from "./store.ts";
import { connect } from "./rows.ts";

type Store = Awaited<ReturnType<typeof openPostgresStore>>;
type Db = ReturnType<typeof connect>;

/** A test on a fresh private cluster: its store (4 connections) and one plain connection. */
function batchTest(name: string, body: (store: Store, db: Db) => Promise<void>) {
  Deno.test({
    name: `postgres batch: ${name}`,
    ignore: skipPostgres(),
    async fn() {
      const pg = await startPostgres();
      const store = await openPostgresStore(pg.url, { maxConnections: 4 });
      const db = connect(pg.url, { max: 1 });
      try {
        await body(store, db);
      } finally {
        await db.end();
        await store.close();
        await pg.stop();
      }
    },
  });
}

batchTest("a failing delivery rolls its batch back; the others commit alone", async (store, db) => {
  const account = await store.createAccount("b@example.test", "h");
  const inbox = (await store.getMailbox(account.id, "INBOX"))!;
  // A server-side failure for one message only (its size), inside the batch's calls.
  await db.unsafe(`
      CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.size = 777 THEN RAISE EXCEPTION 'boom'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_boom BEFORE INSERT ON messages
        FOR EACH ROW EXECUTE FUNCTION test_boom();`);
  const msg = (i: number, size = 100) => {
    const head = `Subject: m${i}\r\n\r\n`;
    return new TextEncoder().encode(head + "x".repeat(size - head.length));
  };
  const to = [{ accountId: account.id, mailbox: "INBOX" }];
  for (let round = 0; round < 3; round++) {
    // Many at once, so that they share batches with the failing one.
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => store.deliver(msg(i, i === 17 ? 777 : 100), to)),
    );
    const failed = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    assert.equal(failed.length, 1);
    assert.match(String(failed[0].message), /boom/);
    assert.equal(results[17].status, "rejected");
  }
  const uids = (await store.listMessages(inbox.id)).map((m) => m.uid);
  assert.equal(uids.length, 117);
  // UIDs commit in order: the rolled back batches' reservations were rolled back too.
  assert.deepEqual(uids, Array.from({ length: 117 }, (_, i) => i + 1));
  const [orphans] = await db`SELECT count(*)::int AS n FROM blobs WHERE refs <= 0`;
  assert.equal(orphans.n, 0);
  const status = await store.mailboxStatus(inbox.id);
  assert.equal(status.messages, 117);
});

batchTest(
  "quota refusals, flags, mailbox names and thread headers in one batch",
  async (store, db) => {
    const account = await store.createAccount("q@example.test", "h");
    const odd = `a "quoted", \\back\\slashed {box} ü`;
    await store.createMailbox(account.id, odd);
    const enc = (s: string) => new TextEncoder().encode(s);
    // A thread root, then many at once: replies to it, into the odd mailbox, with flags.
    await store.deliver(enc('Message-ID: <root@x>\r\nSubject: "q" {x}\r\n\r\nroot\r\n'), [
      { accountId: account.id, mailbox: "INBOX" },
    ]);
    await store.setQuota("q@example.test", 20 * 100 + 60); // the root and 20 of 100 B
    const reply = (i: number) => {
      const head = `Message-ID: <r${i}@x>\r\nReferences: <root@x>\r\nSubject: Re: "q" {x}\r\n\r\n`;
      return enc(head + "x".repeat(100 - head.length));
    };
    const target = [{ accountId: account.id, mailbox: odd, flags: ["\\Seen", "$Bench"] }];
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => store.deliver(reply(i), target)),
    );
    const placed = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    assert.equal(placed.length, 20, "the quota admits exactly 20 of them");
    assert.ok(refused.every((e) => e.code === "quota"), String(refused[0]));
    const box = (await store.getMailbox(account.id, odd))!;
    const list = await store.listMessages(box.id);
    assert.deepEqual(list.map((m) => m.uid), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(list.every((m) => m.flags.includes("\\Seen") && m.flags.includes("$Bench")));
    assert.equal((await store.mailboxStatus(box.id)).unseen, 0);
    // Every reply joined the root's thread (References went through as JSON).
    const copies = await store.accountCopies(account.id);
    assert.equal(new Set(copies.map((c) => c.threadId)).size, 1);
    // The refused deliveries' blobs were removed in their batch.
    const [left] = await db`SELECT count(*)::int AS n FROM blobs WHERE refs <= 0`;
    assert.equal(left.n, 0);
  },
);

batchTest(
  "a chain of replies in one batch is one thread; counters and log agree",
  async (store, db) => {
    const account = await store.createAccount("t@example.test", "h");
    const other = await store.createAccount("u@example.test", "h");
    const enc = (s: string) => new TextEncoder().encode(s);
    // Message i replies to message i - 1: all sent at once, so most share batches and
    // a reply's parent is an earlier delivery of its own batch (not a stored row).
    const msg = (i: number, subject = "chain") =>
      enc(
        `Message-ID: <c${i}@x>\r\n` + (i > 0 ? `References: <c${i - 1}@x>\r\n` : "") +
          `Subject: ${i > 0 ? "Re: " : ""}${subject}\r\n\r\nbody ${i}\r\n`,
      );
    const results = await Promise.all([
      ...Array.from(
        { length: 40 },
        (_, i) =>
          store.deliver(msg(i), [{ accountId: account.id, mailbox: i % 2 ? "Nope" : "INBOX" }]),
      ),
      // Another account's same Message-IDs with another subject: its own threads.
      ...Array.from(
        { length: 10 },
        (_, i) => store.deliver(msg(i, "other"), [{ accountId: other.id, mailbox: "INBOX" }]),
      ),
    ]);
    assert.equal(results.length, 50);
    const copies = await store.accountCopies(account.id);
    assert.equal(copies.length, 40);
    assert.equal(new Set(copies.map((c) => c.threadId)).size, 1, "one thread");
    const theirs = await store.accountCopies(other.id);
    assert.equal(new Set(theirs.map((c) => c.threadId)).size, 1);
    assert.notEqual(theirs[0].threadId, copies[0].threadId);
    // The counters, the change log and the blob references the batch wrote itself.
    const rows = await db`
      SELECT m.id, m.messages, m.unseen, m.size, m.uid_next, m.highest_modseq,
        (SELECT count(*) FROM messages x WHERE x.mailbox_id = m.id)::int AS n,
        (SELECT coalesce(sum(x.size), 0) FROM messages x WHERE x.mailbox_id = m.id)::int AS sz,
        (SELECT max(x.uid) FROM messages x WHERE x.mailbox_id = m.id)::int AS maxuid,
        (SELECT max(x.modseq) FROM messages x WHERE x.mailbox_id = m.id)::int AS maxms,
        (SELECT count(*) FROM change_log c WHERE c.mailbox_id = m.id AND c.op = 'c')::int AS log
      FROM mailboxes m WHERE m.name = 'INBOX'`;
    for (const r of rows) {
      assert.equal(Number(r.messages), r.n);
      assert.equal(Number(r.unseen), r.n);
      assert.equal(Number(r.size), r.sz);
      assert.equal(Number(r.uid_next), r.maxuid + 1);
      assert.equal(Number(r.highest_modseq), r.maxms);
      assert.equal(r.log, r.n);
    }
    const [refs] = await db`SELECT count(*)::int AS n FROM blobs WHERE refs <> 1`;
    assert.equal(refs.n, 0);
    const [pending] = await db`SELECT count(*)::int AS n FROM search_pending`;
    assert.ok(pending.n <= 50);
    // The row triggers still do their work for every other writer (IMAP EXPUNGE here).
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    const uids = (await store.listMessages(inbox.id)).map((m) => m.uid);
    await store.expunge(inbox.id, uids.slice(0, 5));
    const status = await store.mailboxStatus(inbox.id);
    assert.equal(status.messages, 35);
    const [gone] = await db`SELECT count(*)::int AS n FROM change_log WHERE op = 'd'`;
    assert.equal(gone.n, 5);
  },
);

batchTest(
  "a shared body this node stored is sent by digest; once swept, it is stored again",
  async (store, db) => {
    const account = await store.createAccount("k@example.test", "h");
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    // Counts the body rows a batch asks to insert (a BEFORE trigger fires even when ON
    // CONFLICT then skips the row): a body named by digest alone asks for none.
    await db.unsafe(`
      CREATE TABLE test_body_puts (n int NOT NULL);
      INSERT INTO test_body_puts VALUES (0);
      CREATE FUNCTION test_count_put() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE test_body_puts SET n = n + 1; RETURN NEW; END $$;
      CREATE TRIGGER test_count_put BEFORE INSERT ON blob_bodies
        FOR EACH ROW EXECUTE FUNCTION test_count_put();`);
    const puts = async () => (await db`SELECT n FROM test_body_puts`)[0].n as number;
    const body = "newsletter line\r\n".repeat(400); // above SHARED_BODY_MIN
    const msg = (i: number) => new TextEncoder().encode(`Subject: n${i}\r\n\r\n${body}`);
    const to = [{ accountId: account.id, mailbox: "INBOX" }];
    const readBack = async (uid: number) => {
      const m = (await store.listMessages(inbox.id)).find((x) => x.uid === uid)!;
      return new TextDecoder().decode(await store.readBlob(m.blobId));
    };

    await store.deliver(msg(1), to);
    assert.equal(await puts(), 1);
    for (let i = 2; i <= 4; i++) await store.deliver(msg(i), to);
    assert.equal(await puts(), 1, "the later deliveries named the stored body by digest");
    assert.equal(await readBack(4), new TextDecoder().decode(msg(4)));

    // Every message goes and the sweep deletes the body: the node still thinks it stored.
    await store.expunge(inbox.id, [1, 2, 3, 4]);
    await store.pruneHistory({ expungedKeep: 0, changeLogKeep: 0, auditKeepMs: 0 });
    const [gone] = await db`SELECT count(*)::int AS n FROM blob_bodies`;
    assert.equal(gone.n, 0, "the sweep removed the body");
    // The batch naming it by digest fails (DM001) and rolls back; alone, it sends the bytes.
    await store.deliver(msg(5), to);
    assert.equal(await puts(), 2);
    assert.equal(await readBack(5), new TextDecoder().decode(msg(5)));
    const uids = (await store.listMessages(inbox.id)).map((m) => m.uid);
    assert.deepEqual(uids, [5], "the rolled back batch left no UID gap");
  },
);
