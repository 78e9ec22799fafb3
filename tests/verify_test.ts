/**
 * `verify` finds each corruption a test injects into a real database (a missing blob, a wrong
 * counter, a broken digest, a low UIDNEXT, an index row too many, a wrong reference count)
 * and `verify --repair` fixes exactly what it says it fixes; the rest stays reported.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { cli } from "./lib/server_process.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";

const enc = new TextEncoder();

/** A message with a body of `bodyBytes` (over 4 KB: stored as a shared body). */
function message(n: number, bodyBytes = 200): Uint8Array {
  const line = `line of message ${n} `.padEnd(70, "x") + "\r\n";
  return enc.encode(
    `From: a@example.org\r\nTo: alice@example.test\r\nSubject: message ${n}\r\n` +
      `Message-ID: <m${n}@example.org>\r\n\r\n${line.repeat(Math.ceil(bodyBytes / 72))}`,
  );
}

/** A data dir with one account, 6 messages (2 with shared bodies), flags, one queue entry. */
export async function makeStore(dir: string): Promise<void> {
  const store = await openSqliteStore(join(dir, "data", "denomail.db"), { inlineWrites: true });
  try {
    await store.addDomain("example.test");
    const acc = await store.createAccount("alice@example.test", "x");
    const inbox = (await store.getMailbox(acc.id, "INBOX"))!;
    for (let i = 1; i <= 6; i++) {
      await store.deliver(message(i, i <= 2 ? 10_000 : 200), [
        { accountId: acc.id, mailbox: "INBOX", flags: i % 2 ? ["\\Seen"] : [] },
      ]);
    }
    await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "add", flags: ["\\Flagged"] });
    await store.expunge(inbox.id, [6]);
    await store.enqueue(message(7), {
      sender: "alice@example.test",
      recipients: [{ address: "bob@example.org", status: "pending" }],
      nextAttemptAt: Date.now() + 3_600_000,
      meta: {},
    });
    await store.flushTextIndex?.();
  } finally {
    await store.close();
  }
}

Deno.test("verify: a sound store passes; each injected corruption is found; --repair fixes what it claims", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-verify-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
  try {
    await makeStore(dir);
    const ok = await cli(["verify", "--config", config]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^ok: 5 mailboxes, 5 messages, 6 blobs, 1 queue entries/m);

    const db = new DatabaseSync(join(dir, "data", "denomail.db"));
    const one = (sql: string) => db.prepare(sql).get() as Record<string, number>;
    const inbox = one("SELECT id FROM mailboxes WHERE name = 'INBOX'").id;
    const blobOf = (uid: number) =>
      one(`SELECT blob_id FROM messages WHERE mailbox_id = ${inbox} AND uid = ${uid}`).blob_id;
    // A missing blob (uid 3), a broken digest (uid 4: one byte changed), a wrong counter,
    // a UIDNEXT below a UID, an index row for a blob that does not exist, a wrong refcount.
    db.exec(`DELETE FROM blob_data WHERE id = ${blobOf(3)}`);
    db.exec(`UPDATE blob_data SET data = CAST(replace(CAST(data AS TEXT), 'message 4',
      'massage 4') AS BLOB) WHERE id = ${blobOf(4)}`);
    db.exec(`UPDATE mailboxes SET messages = messages + 2, unseen = 0 WHERE id = ${inbox}`);
    db.exec(`UPDATE mailboxes SET uid_next = 3 WHERE id = ${inbox}`);
    db.exec(`INSERT INTO fts_body (rowid, text) VALUES (424242, 'a ghost row')`);
    db.exec(`UPDATE blobs SET refs = 7 WHERE id = ${blobOf(5)}`);
    db.close();

    const bad = await cli(["verify", "--config", config]);
    assert.equal(bad.code, 1, bad.stdout);
    const lines = bad.stdout.split("\n").filter((l) => l.startsWith("problem: "));
    const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `${re} in\n${bad.stdout}`);
    has(/UID 3: its blob \d+ is missing/);
    has(/bytes do not match its SHA-256/);
    has(/messages counter is 7, its rows say 5/);
    has(/unseen counter is 0, its rows say 2/);
    has(/UIDNEXT 3 is not above UID 6/);
    has(/full-text index: a row for blob 424242/);
    has(/reference count 7, 1 rows use it/);
    assert.match(bad.stderr, /problems in/);

    const fixed = await cli(["verify", "--repair", "--config", config]);
    assert.equal(fixed.code, 1, "the missing and the corrupted blob cannot be repaired");
    const did = fixed.stdout.split("\n").filter((l) => l.startsWith("repaired: "));
    const said = (re: RegExp) =>
      assert.ok(did.some((l) => re.test(l)), `${re} in\n${fixed.stdout}`);
    said(/counters recounted \(messages 5, unseen 2,/);
    said(/UIDNEXT raised to 7/);
    said(/rows of blob 424242 removed/);
    said(/reference count set to 1/);
    assert.match(fixed.stdout, /; 2 problems remain/);
    const still = fixed.stdout.split("\n").filter((l) => l.startsWith("still: "));
    assert.equal(still.length, 2, fixed.stdout);

    // What --repair said it fixed is fixed in the database.
    const after = new DatabaseSync(join(dir, "data", "denomail.db"), { readOnly: true });
    const row = after.prepare(`SELECT messages, unseen, uid_next FROM mailboxes WHERE id = ?`)
      .get(inbox) as Record<string, number>;
    assert.deepEqual({ ...row }, { messages: 5, unseen: 2, uid_next: 7 });
    assert.equal(
      (after.prepare("SELECT count(*) AS n FROM fts_body WHERE rowid = 424242").get() as {
        n: number;
      }).n,
      0,
    );
    after.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
