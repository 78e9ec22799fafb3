/**
 * Identical mail delivered separately shares its body: a 1 MB newsletter sent to 100 users in
 * 100 separate SMTP transactions (python smtplib; each copy gets its own Received: and
 * Return-Path:) costs about 1 MB in the blob store, not 100 MB; every copy still reads back
 * whole; and the shared body goes only when its last message is expunged.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { python, startTestServer } from "./harness.ts";

const USERS = Array.from({ length: 100 }, (_, i) => `reader${i}@example.test`);

const SEND = `
import smtplib, sys
port = int(sys.argv[1])
body = "".join("newsletter line %06d %s\\r\\n" % (i, "x" * 50) for i in range(14000))
msg = ("From: news@example.org\\r\\nTo: readers@example.test\\r\\nSubject: issue 1\\r\\n"
       "Message-ID: <issue-1@example.org>\\r\\n\\r\\n" + body).encode()
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
for u in sys.argv[2:]:
    s.sendmail("news@example.org", [u], msg)   # one transaction per recipient
s.quit()
print(len(msg))
`;

Deno.test({
  name: "dedupe: one 1 MB message to 100 users by separate transactions costs about 1 MB",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ts = await startTestServer();
    try {
      await ts.store.addDomain("example.test");
      const accounts = [];
      for (const u of USERS) accounts.push(await ts.addUser(u, "dedupe-password"));
      const sent = Number((await python(SEND, [String(ts.port("smtp")), ...USERS])).stdout);
      assert.ok(sent > 1_000_000);

      const db = new DatabaseSync(join(ts.dir, "denomail.db"), { readOnly: true });
      const bytes = () =>
        (db.prepare(`SELECT (SELECT coalesce(sum(length(data)), 0) FROM blob_data) +
          (SELECT coalesce(sum(length(data)), 0) FROM blob_bodies) AS n`).get() as { n: number })
          .n;
      const stored = bytes();
      const logical = (db.prepare("SELECT sum(size) AS n FROM messages").get() as { n: number }).n;
      assert.ok(logical > 100 * sent, "100 copies, each with its own trace fields");
      assert.ok(stored < sent * 1.2, `stored ${stored} bytes for 100 x ${sent}`);
      console.log(`dedupe: 100 x ${sent} octets delivered, ${logical} logical, ${stored} stored`);
      const bodies = () =>
        (db.prepare("SELECT count(*) AS n FROM blob_bodies").get() as {
          n: number;
        }).n;
      assert.equal(bodies(), 1);

      // Every copy is whole: its own header block, then the shared body.
      const inboxes = [];
      for (const a of accounts) inboxes.push((await ts.store.getMailbox(a.id, "INBOX"))!);
      const first = await ts.store.listMessages(inboxes[0].id);
      const last = await ts.store.listMessages(inboxes[99].id);
      const a = new TextDecoder().decode(await ts.store.readBlob(first[0].blobId));
      const b = new TextDecoder().decode(await ts.store.readBlob(last[0].blobId));
      assert.notEqual(a, b);
      assert.equal(a.length, first[0].size);
      assert.ok(b.includes(`for <${USERS[99]}>`));
      assert.equal(a.slice(a.indexOf("Subject: issue 1")), b.slice(b.indexOf("Subject: issue 1")));

      // Expunging frees the body only at the last reference.
      for (const mb of inboxes.slice(0, 99)) await ts.store.expunge(mb.id, [1]);
      assert.equal(bodies(), 1);
      assert.equal(
        (await ts.store.readBlob(last[0].blobId)).byteLength,
        last[0].size,
        "the last copy still reads whole",
      );
      await ts.store.expunge(inboxes[99].id, [1]);
      assert.equal(bodies(), 0);
      assert.ok(bytes() < 10_000, `nothing of the newsletter left (${bytes()})`);
      db.close();
    } finally {
      await ts.stop();
    }
  },
});
