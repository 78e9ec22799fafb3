import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "./store.ts";
import { matchExpression } from "./fts.ts";
import { generateMessages } from "../../bench/corpus.ts";

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

Deno.test("sqlite full-text index: a query is at most 12 trigrams, ANDed", () => {
  assert.equal(matchExpression({ part: "body", value: "Abc" }), '"abc"');
  assert.equal(
    matchExpression({ part: "text", value: 'a"bcd' }),
    '"a""b" AND """bc" AND "bcd"',
  );
  const long = matchExpression({ part: "header", value: "x".repeat(5000) + "yz" })!;
  assert.equal(long, '"xxx" AND "xyz"'); // duplicates collapse
  const spread = matchExpression({ part: "body", value: "abcdefghijklmnopqrstuvwxyz" })!;
  assert.equal(spread.split(" AND ").length, 12);
  assert.match(spread, /"abc".*"xyz"/); // both ends are kept
});

Deno.test("sqlite full-text index: background indexing keeps up with bulk delivery", async () => {
  // Issue 13, item 19: 100,000 delivered messages must be searchable within a minute. Here
  // 1,000 realistic ~10 KB messages; the old loop (a 20 ms pause after every 5 ms step)
  // managed 136 messages/s on an idle machine (this one 400+); the floor leaves room for a
  // loaded CI box.
  const dir = await Deno.makeTempDir({ prefix: "denomail-fts-rate-" });
  const store = await openSqliteStore(join(dir, "denomail.db"));
  try {
    const account = await store.createAccount("rate@example.test", "x");
    const inFlight: Promise<unknown>[] = [];
    const COUNT = 1000;
    for (const m of generateMessages(COUNT)) {
      const bytes = enc.encode(m.replaceAll("\n", "\r\n"));
      inFlight.push(store.deliver(bytes, [{ accountId: account.id, mailbox: "INBOX" }]));
      if (inFlight.length >= 32) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    const started = performance.now();
    while (await store.textIndexBacklog() > 0) await new Promise((r) => setTimeout(r, 20));
    const perSec = COUNT / ((performance.now() - started) / 1000);
    assert.ok(perSec >= 150, `background indexing: ${perSec.toFixed(0)} messages/s`);
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    assert.deepEqual(await store.searchText(inbox.id, { part: "body", value: "uniq777x" }), [778]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
