/**
 * IMAP end to end with imapflow (npm): STARTTLS, fetchOne with source / envelope /
 * bodyStructure, append, search, flags, messageMove, mailbox management, and IDLE
 * notifications of deliveries and expunges made elsewhere.
 */
import assert from "node:assert/strict";
import type { ImapFlow } from "imapflow";
import { startTestServer } from "./harness.ts";
import { deliver, flowClient, once, sampleMessage } from "./imap_helpers.ts";

const enc = new TextEncoder();

const MULTIPART = enc.encode(
  "From: =?utf-8?q?J=C3=BCrgen?= <j@example.test>\r\nTo: Alice <alice@example.test>, bob@example.test\r\n" +
    "Subject: Flow test\r\nMessage-ID: <flow@example.test>\r\nDate: Wed, 3 Jan 2024 08:00:00 +0100\r\n" +
    'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
    "--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain body\r\n" +
    "--alt\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>html body</p>\r\n--alt--\r\n",
);

function client(port: number, ca: string): ImapFlow {
  return flowClient(port, ca, "alice@example.test", "flow-pw");
}

Deno.test("imap: imapflow", async (t) => {
  const ts = await startTestServer();
  const alice = await ts.addUser("alice@example.test", "flow-pw");
  const a = client(ts.port("imap"), ts.certPem);
  const b = client(ts.port("imap"), ts.certPem);
  try {
    const uid = await deliver(ts, alice.id, MULTIPART);
    await a.connect();
    await b.connect();

    await t.step("STARTTLS was used and the session is authenticated", () => {
      assert.equal(a.secureConnection, true);
      assert.equal(a.usable, true);
      assert.ok(a.capabilities.has("IDLE") && a.capabilities.has("MOVE"));
    });

    await t.step("fetchOne: source, envelope, bodyStructure", async () => {
      const lock = await a.getMailboxLock("INBOX");
      try {
        const msg = await a.fetchOne(String(uid), {
          source: true,
          envelope: true,
          bodyStructure: true,
          flags: true,
          size: true,
        }, { uid: true });
        assert.ok(msg);
        assert.deepEqual(new Uint8Array(msg.source!), MULTIPART);
        assert.equal(msg.size, MULTIPART.length);
        assert.equal(msg.envelope!.subject, "Flow test");
        assert.equal(msg.envelope!.messageId, "<flow@example.test>");
        assert.equal(msg.envelope!.from![0].address, "j@example.test");
        assert.equal(msg.envelope!.from![0].name, "J\u00fcrgen");
        assert.deepEqual(msg.envelope!.to!.map((x) => x.address), [
          "alice@example.test",
          "bob@example.test",
        ]);
        const bs = msg.bodyStructure!;
        assert.equal(bs.type, "multipart/alternative");
        assert.deepEqual(bs.childNodes!.map((c) => c.type), ["text/plain", "text/html"]);
        const part = await a.fetchOne(String(uid), { bodyParts: ["2"] }, { uid: true });
        assert.ok(part);
        assert.equal(new TextDecoder().decode(part.bodyParts!.get("2")), "<p>html body</p>");
      } finally {
        lock.release();
      }
    });

    await t.step("append, search, flags, messageMove", async () => {
      await a.mailboxCreate("Archive");
      const appended = await a.append("INBOX", sampleMessage("appended by flow"), ["\\Flagged"]);
      assert.ok(appended && appended.uid! > uid);
      const lock = await a.getMailboxLock("INBOX");
      try {
        const found = await a.search({ subject: "appended by flow" }, { uid: true });
        assert.deepEqual(found, [appended.uid]);
        assert.deepEqual(await a.search({ flagged: true }, { uid: true }), [appended.uid]);
        await a.messageFlagsAdd(String(uid), ["\\Answered"], { uid: true });
        assert.deepEqual(await a.search({ answered: true }, { uid: true }), [uid]);
        const moved = await a.messageMove(String(appended.uid), "Archive", { uid: true });
        assert.ok(moved);
        assert.equal(moved.uidMap!.get(appended.uid!), 1);
        assert.equal(a.mailbox && a.mailbox.exists, 1);
      } finally {
        lock.release();
      }
      const status = await a.status("Archive", { messages: true, uidNext: true });
      assert.ok(status);
      assert.equal(status.messages, 1);
      assert.equal(status.uidNext, 2);
      const names = (await a.list()).map((m) => m.path);
      assert.ok(names.includes("Archive") && names.includes("INBOX"));
      const archive = (await a.list()).find((m) => m.path === "Archive")!;
      assert.ok(archive.flags.has("\\HasNoChildren"));
      const trash = (await a.list()).find((m) => m.path === "Trash")!;
      assert.equal(trash.specialUse, "\\Trash");
    });

    await t.step("IDLE reports a new delivery and an expunge by another session", async () => {
      const lock = await a.getMailboxLock("INBOX");
      try {
        const before = a.mailbox ? a.mailbox.exists : 0;
        const idling = a.idle();
        // imapflow reports IDLE start through its `idling` flag; wait until it is set.
        for (let i = 0; i < 200 && !a.idling; i++) await new Promise((r) => setTimeout(r, 5));
        assert.ok(a.idling, "client entered IDLE");
        const exists = once<{ count: number }>(a, "exists", 2000);
        const started = performance.now();
        const newUid = await deliver(ts, alice.id, sampleMessage("during idle"));
        const ev = await exists;
        const ms = performance.now() - started;
        assert.equal(ev.count, before + 1);
        assert.ok(ms < 1000, `EXISTS after ${ms.toFixed(0)} ms`);

        const expunge = once<{ seq: number }>(a, "expunge", 2000);
        const lockB = await b.getMailboxLock("INBOX");
        try {
          await b.messageDelete(String(newUid), { uid: true });
        } finally {
          lockB.release();
        }
        const ex = await expunge;
        assert.equal(ex.seq, before + 1);
        // Leave IDLE by running a command.
        await a.noop();
        await idling;
      } finally {
        lock.release();
      }
    });
  } finally {
    await a.logout().catch(() => {});
    await b.logout().catch(() => {});
    await ts.stop();
  }
});
