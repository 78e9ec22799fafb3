/**
 * What several nodes on one PostgreSQL database rely on, at the Store level: change events
 * cross instances (LISTEN/NOTIFY), and queue claims never hand one entry to two nodes at
 * once. Two Store instances (separate pools), as two nodes have; a private cluster.
 */
import assert from "node:assert/strict";
import { skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import type { MailboxChange, QueueEntry } from "../mod.ts";
import { openPostgresStore, type PostgresStore } from "./store.ts";
import { changePayloads } from "./change_bus.ts";

const ignore = skipPostgres();

/** Collects the change events of a store. */
function recorder(store: PostgresStore): MailboxChange[] {
  const seen: MailboxChange[] = [];
  store.changes.addEventListener("change", (ev) => {
    seen.push((ev as CustomEvent<MailboxChange>).detail);
  });
  return seen;
}

/** Polls `cond` until it holds or `ms` pass. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("change payloads stay under the NOTIFY limit and keep every UID", () => {
  const uids = Array.from({ length: 5000 }, (_, i) => 1_000_000_000 + i);
  const changes: MailboxChange[] = [
    { kind: "expunge", mailboxId: 7, uids, highestModseq: 99 },
    { kind: "mailbox", accountId: 3 },
    { kind: "append", mailboxId: 8, uids: [1], highestModseq: 100 },
  ];
  const payloads = changePayloads("me", changes);
  assert.ok(payloads.length > 1);
  const back: MailboxChange[] = [];
  for (const p of payloads) {
    assert.ok(new TextEncoder().encode(p).length < 8000, "under 8000 bytes");
    const parsed = JSON.parse(p);
    assert.equal(parsed.o, "me");
    back.push(...parsed.c);
  }
  const expunged = back.filter((c) => c.kind === "expunge").flatMap((c) =>
    c.kind === "expunge" ? c.uids : []
  );
  assert.deepEqual(expunged, uids);
  assert.ok(back.every((c) => c.kind !== "expunge" || c.highestModseq === 99));
  assert.deepEqual(back.filter((c) => c.kind !== "expunge"), changes.slice(1));
});

Deno.test({
  name:
    "postgres cluster: changes committed through one store reach the other; claims are exclusive",
  ignore,
  async fn() {
    const pg = await startPostgres();
    const [a, b] = await Promise.all([
      openPostgresStore(pg.url, { maxConnections: 4 }),
      openPostgresStore(pg.url, { maxConnections: 4 }),
    ]);
    try {
      const seenA = recorder(a);
      const seenB = recorder(b);
      const account = await a.createAccount("nodes@example.test", "h");
      const inbox = (await a.getMailbox(account.id, "INBOX"))!;
      const [placed] = await a.deliver(
        new TextEncoder().encode("Subject: x\r\n\r\nx\r\n"),
        [{ accountId: account.id, mailbox: "INBOX" }],
      );
      const isAppend = (c: MailboxChange) =>
        c.kind === "append" && c.mailboxId === inbox.id && c.uids.includes(placed.uid);
      await until(() => seenB.some(isAppend), "the append on the other store");
      assert.equal(seenA.filter(isAppend).length, 1, "the writer hears itself once");
      // A flag change made on B reaches A; a write that rolled back sends nothing.
      await b.updateFlags({
        mailboxId: inbox.id,
        uids: [placed.uid],
        op: "add",
        flags: ["\\Seen"],
      });
      await until(() => seenA.some((c) => c.kind === "flags"), "the flag change on A");
      await a.setQuota(account.email, 10);
      const n = seenB.length;
      await assert.rejects(a.deliver(new TextEncoder().encode("x".repeat(100)), [
        { accountId: account.id, mailbox: "INBOX" },
      ]));
      await b.updateFlags({
        mailboxId: inbox.id,
        uids: [placed.uid],
        op: "remove",
        flags: ["\\Seen"],
      });
      await until(() => seenA.filter((c) => c.kind === "flags").length === 2, "second flags");
      assert.equal(seenB.length, n + 1, "nothing arrived from the failed delivery");

      // 60 due entries claimed by both stores at once, 5 at a time: each claimed once.
      for (let i = 0; i < 60; i++) {
        await a.enqueue(new TextEncoder().encode(`m${i}`), {
          sender: "s@example.test",
          recipients: [{ address: `r${i}@remote.test`, status: "pending" }],
          nextAttemptAt: 0,
          meta: {},
        });
      }
      const now = Date.now();
      const drain = async (store: PostgresStore, node: string) => {
        const got: QueueEntry[] = [];
        for (;;) {
          const batch = await store.claimQueue(now, 5, { node, ms: 60_000 });
          if (batch.length === 0) return got;
          got.push(...batch);
        }
      };
      const [ga, gb] = await Promise.all([drain(a, "a"), drain(b, "b")]);
      const ids = [...ga, ...gb].map((e) => e.id).sort((x, y) => x - y);
      assert.equal(ids.length, 60);
      assert.equal(new Set(ids).size, 60, "no entry claimed twice");
    } finally {
      await a.close();
      await b.close();
      await pg.stop();
    }
  },
});
