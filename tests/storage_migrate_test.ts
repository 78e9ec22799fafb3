/**
 * `storage migrate --to postgres://…` through the CLI, as an admin runs it: a SQLite data dir
 * with accounts, mailboxes, 400 messages (flags, an expunge), a queue entry, kv and a token
 * is copied into an empty database; the first run is killed (SIGKILL) part way and the second
 * resumes and verifies; the copy keeps ids, UIDVALIDITY, UIDs and bytes, and serves a new
 * delivery after the last UID. A target with data of its own is refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { skipPostgres, startPostgres } from "./lib/postgres.ts";
import { cli } from "./lib/server_process.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { openPostgresStore } from "../storage/postgres/store.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const enc = new TextEncoder();

Deno.test({
  name: "storage migrate: SQLite data dir -> empty PostgreSQL, resumable after a kill, verified",
  ignore: skipPostgres(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "denomail-migrate-" });
    const pg = await startPostgres();
    try {
      const config = join(dir, "denomail.toml");
      await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
      await Deno.mkdir(`${dir}/data`);
      const src = await openSqliteStore(`${dir}/data/denomail.db`, { inlineWrites: true });
      const alice = await src.createAccount("alice@example.test", "$argon2id$hash-a");
      await src.createAccount("bob@example.test", "$argon2id$hash-b");
      await src.setAlias("team@example.test", ["alice@example.test", "bob@example.test"]);
      const work = await src.createMailbox(alice.id, "Work");
      const inbox = (await src.getMailbox(alice.id, "INBOX"))!;
      for (let i = 0; i < 400; i++) {
        const body = enc.encode(
          `Subject: m${i}\r\nMessage-ID: <m${i}@x>\r\n\r\nbody ${i} word${i}\r\n`,
        );
        await src.append(i % 4 === 0 ? work.id : inbox.id, body, {
          flags: i % 3 === 0 ? ["\\Seen"] : [],
          internalDate: 1_700_000_000_000 + i * 1000,
        });
      }
      // Two messages whose large body is stored once (storage/sqlite/blobs.ts, shared bodies):
      // the copy must carry each message whole.
      const bigBody = Array.from({ length: 200 }, (_, i) => `line ${i} of the newsletter\r\n`)
        .join("");
      const bigs = ["A", "B"].map((k) => `Subject: big ${k}\r\n\r\n${bigBody}`);
      for (const b of bigs) await src.append(work.id, enc.encode(b), {});
      await src.expunge(inbox.id, [2]);
      const queued = await src.enqueue(enc.encode("Subject: out\r\n\r\nx\r\n"), {
        sender: "alice@example.test",
        recipients: [{ address: "r@remote.test", status: "pending" }],
        nextAttemptAt: 0,
        meta: { envid: "E1" },
      });
      await src.kvSet("greylist", "t:1", "seen");
      await src.createApiToken(alice.id, "phone", "ab".repeat(32));
      const before = {
        inbox: await src.getMailbox(alice.id, "INBOX"),
        msgs: await src.listMessages(inbox.id),
      };
      await src.close();

      // First run: killed once the blob copy is under way.
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "storage", "migrate", "--to", pg.url, "--config", config],
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let seen = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        seen += chunk;
        if (/blobs: [1-9]\d*\//.test(seen)) {
          child.kill("SIGKILL");
          break;
        }
      }
      const first = await child.status;
      assert.equal(first.success, false, `the first run was cut short:\n${seen}`);

      const second = await cli(["storage", "migrate", "--to", pg.url, "--config", config]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /ok {2}blob digests/);
      assert.match(second.stdout, /ok {2}message rows/);
      assert.match(second.stdout, /ok {2}mailbox counters/);

      const dst = await openPostgresStore(pg.url, { maxConnections: 2 });
      try {
        const a = (await dst.getAccount("alice@example.test"))!;
        assert.equal(a.id, alice.id);
        assert.equal(a.passwordHash, "$argon2id$hash-a");
        const box = (await dst.getMailbox(a.id, "INBOX"))!;
        assert.equal(box.uidValidity, before.inbox!.uidValidity, "UIDVALIDITY kept");
        const msgs = await dst.listMessages(box.id);
        assert.deepEqual(msgs, before.msgs, "UIDs, flags, modseqs, dates, blob ids kept");
        const text = new TextDecoder().decode(await dst.readBlob(msgs[10].blobId));
        const i = text.match(/^Subject: m(\d+)\r\n/)?.[1];
        assert.equal(text, `Subject: m${i}\r\nMessage-ID: <m${i}@x>\r\n\r\nbody ${i} word${i}\r\n`);
        assert.deepEqual(
          await dst.searchText!(box.id, { part: "body", value: `word${i}\r` }),
          [msgs[10].uid],
          "the search text was made for copied blobs",
        );
        const workBox = (await dst.getMailbox(a.id, "Work"))!;
        const texts = await Promise.all(
          (await dst.listMessages(workBox.id)).map(async (m) =>
            new TextDecoder().decode(await dst.readBlob(m.blobId))
          ),
        );
        for (const b of bigs) assert.ok(texts.includes(b), "a message with a shared body, whole");
        assert.equal((await dst.getQueueEntry(queued.id))?.meta.envid, "E1");
        assert.equal(await dst.kvGet("greylist", "t:1"), "seen");
        assert.equal((await dst.listApiTokens(a.id)).length, 1);
        assert.equal((await dst.getAlias("team@example.test"))?.length, 2);
        // New mail goes on after the last UID; new ids after the copied ones.
        const [p] = await dst.deliver(enc.encode("Subject: new\r\n\r\nx\r\n"), [
          { accountId: a.id, mailbox: "INBOX" },
        ]);
        assert.equal(p.uid, before.inbox!.uidNext);
        const carol = await dst.createAccount("carol@example.test", "h");
        assert.ok(carol.id > a.id);
      } finally {
        await dst.close();
      }

      // A database with data of its own is refused.
      const other = await pg.createDatabase("other");
      const busy = await openPostgresStore(other, { maxConnections: 1 });
      await busy.createAccount("x@example.test", "h");
      await busy.close();
      const refused = await cli(["storage", "migrate", "--to", other, "--config", config]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /not empty/);
    } finally {
      await pg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
