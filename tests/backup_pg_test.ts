/**
 * `backup` and `restore` on PostgreSQL (a private cluster, tests/lib/postgres.ts): the logical
 * export of every table in one snapshot, restored into a new database of the same cluster;
 * every message (bytes, flags, UIDs), mailbox state and queue entry comes back, new rows get
 * new ids, a non-empty database is refused, and a corrupted archive restores nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./lib/server_process.ts";
import { skipPostgres, startPostgres } from "./lib/postgres.ts";
import { openPostgresStore } from "../storage/postgres/store.ts";
import type { Store } from "../storage/mod.ts";
import { connect } from "../storage/postgres/rows.ts";

const enc = new TextEncoder();

/** Everything a user would notice, per account: mailboxes with state, messages with bytes. */
async function snapshot(store: Store): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const email of ["ann@example.test", "bob@example.test"]) {
    const acc = (await store.getAccount(email))!;
    const boxes: Record<string, unknown> = {};
    for (const mb of await store.listMailboxes(acc.id)) {
      const msgs = [];
      for (const m of await store.listMessages(mb.id)) {
        msgs.push({ ...m, mailboxId: 0, blobId: 0, bytes: await store.readBlob(m.blobId) });
      }
      boxes[mb.name] = { ...mb, id: 0, status: await store.mailboxStatus(mb.id), msgs };
    }
    out[email] = { hash: acc.passwordHash, boxes };
  }
  out.queue = (await store.listQueue()).map((q) => ({ ...q, blobId: 0 }));
  return out;
}

Deno.test({
  name: "backup/restore on PostgreSQL: every table back in a new database",
  ignore: skipPostgres(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pg = await startPostgres();
    const dir = await Deno.makeTempDir({ prefix: "denomail-backup-pg-" });
    try {
      const store = await openPostgresStore(pg.url);
      await store.addDomain("example.test");
      const ann = await store.createAccount("ann@example.test", "hash-a");
      const bob = await store.createAccount("bob@example.test", "hash-b");
      for (let i = 1; i <= 5; i++) {
        await store.deliver(enc.encode(`Subject: m${i}\r\n\r\n${"body\r\n".repeat(i * 300)}`), [
          { accountId: ann.id, mailbox: "INBOX", flags: i % 2 ? ["\\Seen"] : [] },
          { accountId: bob.id, mailbox: "INBOX" },
        ]);
      }
      const inbox = (await store.getMailbox(ann.id, "INBOX"))!;
      await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "add", flags: ["$Work"] });
      await store.expunge(inbox.id, [3]);
      await store.enqueue(enc.encode("Subject: out\r\n\r\nx\r\n"), {
        sender: "ann@example.test",
        recipients: [{ address: "x@remote.example", status: "pending" }],
        nextAttemptAt: Date.UTC(2030, 0, 1),
        meta: {},
      });
      await store.kvSet("plugin", "key", "value");
      const before = await snapshot(store);
      await store.close();

      const config = join(dir, "a.toml");
      await Deno.writeTextFile(
        config,
        `data_dir = "${dir}/a"\n[storage]\nbackend = "postgres"\nurl = "${pg.url}"\n`,
      );
      const archive = join(dir, "pg.backup");
      const b = await cli(["backup", "--out", archive, "--config", config]);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /2 users, 10 mailboxes, 9 messages, 1 queued/);

      // Into a non-empty database: refused, nothing written.
      const same = await cli([
        "restore",
        archive,
        "--data-dir",
        join(dir, "x"),
        "--config",
        config,
      ]);
      assert.equal(same.code, 2, same.stderr);
      assert.match(same.stderr, /not empty/);

      const url2 = await pg.createDatabase("restored");
      const config2 = join(dir, "b.toml");
      await Deno.writeTextFile(
        config2,
        `data_dir = "${dir}/b"\n[storage]\nbackend = "postgres"\nurl = "${url2}"\n`,
      );
      const r = await cli(["restore", archive, "--config", config2]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /verify: ok \(9 messages, 6 blobs\)/);
      const restored = await openPostgresStore(url2);
      try {
        assert.deepEqual(await snapshot(restored), before);
        assert.equal(await restored.kvGet("plugin", "key"), "value");
        // Identity sequences moved on: a new account and message get fresh ids.
        const cat = await restored.createAccount("cat@example.test", "hash-c");
        assert.ok(cat.id > bob.id);
        const placed = await restored.deliver(enc.encode("Subject: new\r\n\r\nx\r\n"), [
          { accountId: ann.id, mailbox: "INBOX" },
        ]);
        assert.equal(placed[0].uid, 6);
      } finally {
        await restored.close();
      }

      // verify on PostgreSQL finds injected corruption; --repair fixes what it says.
      const sql = connect(url2, { max: 1 });
      try {
        await sql.unsafe(`UPDATE mailboxes SET messages = messages + 5, uid_next = 2
          WHERE id = ${inbox.id}`);
        await sql.unsafe(
          "UPDATE blobs SET data = data || '\\x00'::bytea WHERE id = (SELECT min(id) FROM blobs)",
        );
        // A message with no search text that is not waiting for the indexer either (the
        // newest may still be pending: the background indexer runs after the 250).
        await sql.unsafe(
          "DELETE FROM search_pending WHERE blob_id = (SELECT max(blob_id) FROM messages)",
        );
        await sql.unsafe(
          "DELETE FROM blob_text WHERE blob_id = (SELECT max(blob_id) FROM messages)",
        );
      } finally {
        await sql.end();
      }
      const bad1 = await cli(["verify", "--config", config2]);
      assert.equal(bad1.code, 1, bad1.stdout + bad1.stderr);
      assert.match(bad1.stdout, /messages counter is 10, its rows say 5/);
      assert.match(bad1.stdout, /UIDNEXT 2 is not above UID 6/);
      assert.match(bad1.stdout, /bytes do not match its SHA-256/);
      assert.match(bad1.stdout, /search text: blob \d+ has none/);
      const fix = await cli(["verify", "--repair", "--config", config2]);
      assert.equal(fix.code, 1, "the corrupted blob stays");
      assert.match(fix.stdout, /repaired: mailbox \d+: counters recounted \(messages 5,/);
      assert.match(fix.stdout, /repaired: mailbox \d+: UIDNEXT raised to 7/);
      assert.match(fix.stdout, /repaired: search text: blob \d+ indexed/);
      assert.match(fix.stdout, /; 2 problems remain/);

      // A flipped byte in a table's entry: the restore fails and says so.
      const bytes = await Deno.readFile(archive);
      const gunzip = new Response(
        new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
      );
      const tar = new Uint8Array(await gunzip.arrayBuffer());
      const at = new TextDecoder("latin1").decode(tar).indexOf('"hash-b"');
      assert.ok(at > 0);
      tar[at + 6] ^= 1; // "hash-c": still valid JSON, a different row
      const bad = join(dir, "bad.backup");
      await Deno.writeFile(
        bad,
        new Uint8Array(
          await new Response(new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip")))
            .arrayBuffer(),
        ),
      );
      const url3 = await pg.createDatabase("corrupt");
      await Deno.writeTextFile(
        config2,
        `data_dir = "${dir}/c"\n[storage]\nbackend = "postgres"\nurl = "${url3}"\n`,
      );
      const c = await cli(["restore", bad, "--config", config2]);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /does not match its SHA-256/);
    } finally {
      await pg.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
