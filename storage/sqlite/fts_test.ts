import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "./store.ts";
import { matchExpression } from "./fts.ts";

const enc = new TextEncoder();

const MESSAGES = [
  "From: RealFrom <user-from@domain.org>\r\nSubject: Quarterly report\r\n\r\nThe numbers are in.\r\n",
  "From: =?utf-8?q?J=C3=BCrgen?= <j@domain.org>\r\nSubject: hello\r\n\r\nGr=C3=BC=C3=9Fe\r\n",
  "Subject: multipart\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  btoa(String.fromCharCode(...enc.encode("Ünïcödé BODY text"))) + "\r\n--b--\r\n",
];

Deno.test("sqlite full-text index (FTS5 trigram)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-fts-" });
  const path = join(dir, "denomail.db");
  const store = await openSqliteStore(path);
  try {
    const account = await store.createAccount("fts@example.test", "x");
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    for (const m of MESSAGES) {
      await store.deliver(enc.encode(m), [{ accountId: account.id, mailbox: "INBOX" }]);
    }
    await store.flushTextIndex();
    const search = (part: "header" | "body" | "text", value: string) =>
      store.searchText(inbox.id, { part, value });

    await t.step("substrings, case-insensitive, in decoded header and body text", async () => {
      assert.deepEqual(await search("header", "ser-fro"), [1]);
      assert.deepEqual(await search("header", "REALFROM <USER"), [1]); // address as it reads
      assert.deepEqual(await search("header", "jürgen"), [2]); // RFC 2047 decoded
      assert.deepEqual(await search("body", "quarterly"), []); // subject is not body
      assert.deepEqual(await search("text", "quarterly"), [1]);
      assert.deepEqual(await search("body", "ÜNÏCÖDÉ body"), [3]); // base64 + UTF-8 decoded
      assert.deepEqual(await search("text", 'with "quotes'), []);
    });

    await t.step("too short for trigrams: null (the caller scans)", async () => {
      assert.equal(await search("text", "ab"), null);
      assert.equal(matchExpression({ part: "body", value: "ü" }), null);
    });

    await t.step("copies share a row; expunged mail leaves the index", async () => {
      const other = await store.createMailbox(account.id, "Other");
      await store.copyMessages(inbox.id, [1], other.id);
      await store.flushTextIndex();
      assert.deepEqual(await store.searchText(other.id, { part: "text", value: "quarterly" }), [1]);
      await store.expunge(inbox.id, [1]);
      await store.expunge(other.id, [1]);
      assert.deepEqual(await search("text", "quarterly"), []);
    });

    await t.step("mail not indexed yet is always a candidate", async () => {
      // A message is pending until the background step has run: it must not be missed.
      const db = new DatabaseSync(path);
      try {
        await store.deliver(enc.encode("Subject: late\r\n\r\nzebra\r\n"), [
          { accountId: account.id, mailbox: "INBOX" },
        ]);
        const pending = db.prepare("SELECT count(*) AS n FROM fts_pending").get() as { n: number };
        const found = await search("body", "zebra");
        assert.ok(found!.includes(4), `pending=${pending.n} found=${found}`);
        await store.flushTextIndex();
        assert.deepEqual(await search("body", "zebra"), [4]);
        assert.deepEqual(await search("body", "giraffe"), []);
      } finally {
        db.close();
      }
    });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
