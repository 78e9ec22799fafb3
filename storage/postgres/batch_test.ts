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

Deno.test({
  name: "postgres batch: a failing delivery rolls its batch back; the others commit alone",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    const store = await openPostgresStore(pg.url, { maxConnections: 4 });
    const db = connect(pg.url, { max: 1 });
    try {
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
    } finally {
      await db.end();
      await store.close();
      await pg.stop();
    }
  },
});

Deno.test({
  name: "postgres batch: quota refusals, flags, mailbox names and thread headers in one batch",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    const store = await openPostgresStore(pg.url, { maxConnections: 4 });
    const db = connect(pg.url, { max: 1 });
    try {
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
        const head =
          `Message-ID: <r${i}@x>\r\nReferences: <root@x>\r\nSubject: Re: "q" {x}\r\n\r\n`;
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
    } finally {
      await db.end();
      await store.close();
      await pg.stop();
    }
  },
});
