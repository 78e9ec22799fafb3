/**
 * SEARCH's pre-filter on PostgreSQL: LIKE patterns with the client's `%`, `_` and `\` escaped
 * (a needle is a substring, never a pattern), and the pg_trgm indexes in place on a private
 * cluster (Debian's postgresql package ships the extension).
 */
import assert from "node:assert/strict";
import { skipPostgres, startPostgres } from "../../tests/lib/postgres.ts";
import { openPostgresStore } from "./store.ts";
import { connect } from "./rows.ts";

Deno.test({
  name: "postgres SEARCH pre-filter: escaped LIKE needles, trigram indexes",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    const store = await openPostgresStore(pg.url, { maxConnections: 2, searchIndexer: false });
    try {
      const acc = await store.createAccount("s@example.test", "h");
      const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
      const bodies = ["50% off", "50x off", "a_b c", "axb c", "back\\slash", "backxslash"];
      for (const b of bodies) {
        await store.append(inbox.id, new TextEncoder().encode(`Subject: t\r\n\r\n${b}\r\n`));
      }
      await store.indexSearchText();
      const find = (value: string) => store.searchText!(inbox.id, { part: "body", value });
      assert.deepEqual(await find("50%"), [1]);
      assert.deepEqual(await find("A_B"), [3], "case folded, _ is no wildcard");
      assert.deepEqual(await find("k\\s"), [5]);
      assert.deepEqual(await find("OFF"), [1, 2]);
      assert.deepEqual(await find("nowhere"), []);
      const db = connect(pg.url, { max: 1 });
      try {
        const idx = await db`SELECT indexname FROM pg_indexes WHERE tablename = 'blob_text'
          AND indexname LIKE '%trgm' ORDER BY indexname`;
        assert.deepEqual(idx.map((r) => r.indexname), [
          "blob_text_body_trgm",
          "blob_text_header_trgm",
        ]);
      } finally {
        await db.end();
      }
    } finally {
      await store.close();
      await pg.stop();
    }
  },
});

Deno.test({
  name: "postgres SEARCH before the indexer ran: new mail is a candidate, then narrowed",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    // No background indexer: nothing is indexed until indexSearchText.
    const store = await openPostgresStore(pg.url, { maxConnections: 2, searchIndexer: false });
    const db = connect(pg.url, { max: 1 });
    try {
      const acc = await store.createAccount("n@example.test", "h");
      const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
      const mail = (s: string) => new TextEncoder().encode(`Subject: ${s}\r\n\r\nbody ${s}\r\n`);
      await store.deliver(mail("zebra"), [{ accountId: acc.id, mailbox: "INBOX" }]);
      await store.deliver(mail("yak"), [{ accountId: acc.id, mailbox: "INBOX" }]);
      await store.indexSearchText();
      // Delivered after the indexer's last run: not indexed, yet found.
      const [fresh] = await store.deliver(mail("quokka"), [{
        accountId: acc.id,
        mailbox: "INBOX",
      }]);
      const texts = await db`SELECT count(*)::int AS n FROM blob_text`;
      const pending = await db`SELECT count(*)::int AS n FROM search_pending`;
      assert.deepEqual([texts[0].n, pending[0].n], [2, 1]);
      const find = (value: string) => store.searchText!(inbox.id, { part: "text", value });
      assert.deepEqual(await find("quokka"), [fresh.uid], "the unindexed message is a candidate");
      assert.deepEqual(await find("zebra"), [1, fresh.uid], "indexed ones are narrowed");
      await store.indexSearchText();
      assert.deepEqual(await find("quokka"), [fresh.uid]);
      assert.deepEqual(await find("zebra"), [1]);
      const left = await db`SELECT count(*)::int AS n FROM search_pending`;
      assert.equal(left[0].n, 0);
      // A body of 4 KB or more is stored once by digest (blob_store.ts), apart from its row:
      // the indexer reads the whole message, so a word deep in that body is indexed too.
      const big = (s: string) =>
        new TextEncoder().encode(`Subject: big ${s}\r\n\r\n${"filler ".repeat(900)}${s}\r\n`);
      const [shared] = await store.deliver(big("wombat"), [{
        accountId: acc.id,
        mailbox: "INBOX",
      }]);
      await store.indexSearchText();
      const [row] = await db`SELECT t.body FROM blob_text t JOIN blobs b ON b.id = t.blob_id
        WHERE b.body_digest IS NOT NULL`;
      assert.ok(String(row.body).includes("wombat"), "the shared body's text is indexed");
      assert.deepEqual(await find("wombat"), [shared.uid]);
    } finally {
      await db.end();
      await store.close();
      await pg.stop();
    }
  },
});

Deno.test({
  name: "postgres SEARCH pre-filter: a 60 KB periodic needle over a 2 MB text is cut, not run",
  ignore: skipPostgres(),
  async fn() {
    const pg = await startPostgres();
    const store = await openPostgresStore(pg.url, { maxConnections: 2, searchIndexer: false });
    try {
      const acc = await store.createAccount("p@example.test", "h");
      const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
      const enc = new TextEncoder();
      await store.append(inbox.id, enc.encode(`Subject: t\r\n\r\nb${"a".repeat(1_900_000)}b\r\n`));
      await store.append(inbox.id, enc.encode(`Subject: u\r\n\r\nxyz\r\n`));
      await store.indexSearchText();
      // LIKE is O(text × pattern) in PostgreSQL: 14 s for a 20,000-character needle here, so
      // about 40 s for this one. Cut to its first 64 characters the pattern still narrows
      // (message 2 lacks them); the IMAP evaluator confirms message 1 (it does not match).
      const value = "a".repeat(30_000) + "b" + "a".repeat(30_000);
      const t0 = performance.now();
      const got = await store.searchText!(inbox.id, { part: "body", value });
      const ms = performance.now() - t0;
      assert.ok(ms < 10_000, `the pre-filter took ${ms.toFixed(0)} ms`); // 40 s before
      assert.deepEqual(got, [1]);
    } finally {
      await store.close();
      await pg.stop();
    }
  },
});
