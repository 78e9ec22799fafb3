/**
 * Pruning the histories keeps the answers correct: past the kept expunge records, QRESYNC
 * (python imaplib, raw commands) gets VANISHED (EARLIER) for every UID the mailbox no longer
 * has; with a recent MODSEQ the exact list; past the kept change log, JMAP Email/changes is
 * cannotCalculateChanges while a recent state still answers; old audit entries go.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { basic, JmapClient } from "./lib/jmap_client.ts";

const QRESYNC = `
import imaplib, sys
imaplib.Commands["ENABLE"] = ("AUTH",)
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("alice@example.test", "alice-password")
m._simple_command("ENABLE", "QRESYNC")
typ, _ = m._simple_command("SELECT", "INBOX (QRESYNC (%s %s))" % (sys.argv[2], sys.argv[3]))
assert typ == "OK", typ
print(b" ".join(m.untagged_responses.get("VANISHED", [b"none"])).decode())
m.logout()
`;

Deno.test({
  name: "retention: pruned expunge records and change log answer RFC-correctly",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
    try {
      await ts.store.addDomain("example.test");
      const alice = await ts.addUser("alice@example.test", "alice-password");
      const inbox = (await ts.store.getMailbox(alice.id, "INBOX"))!;
      const enc = new TextEncoder();
      for (let i = 1; i <= 10; i++) {
        await ts.store.deliver(enc.encode(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), [
          { accountId: alice.id, mailbox: "INBOX" },
        ]);
      }
      const jmap = new JmapClient(
        `http://127.0.0.1:${ts.port("http")}`,
        basic("alice@example.test", "alice-password"),
      );
      const state = async () =>
        (await jmap.api([["Email/get", { accountId: `a${alice.id}`, ids: [] }, "0"]]))[0][1]
          .state as string;
      const early = await state();
      let afterSix = 0;
      for (let uid = 1; uid <= 8; uid++) {
        await ts.store.expunge(inbox.id, [uid]);
        if (uid === 6) afterSix = (await ts.store.mailboxStatus(inbox.id)).highestModseq;
      }
      const recent = await state();
      const entry = await ts.store.addAuditEntry({
        actor: "cli",
        ip: "",
        action: "old",
        target: "x",
        detail: "",
      });

      const r = await ts.store.pruneHistory({ expungedKeep: 3, changeLogKeep: 5, auditKeepMs: 0 });
      assert.deepEqual(r, { expunged: 5, changeLog: r.changeLog, audit: 0 });
      assert.ok(r.changeLog > 0);
      // The clock, not another task, is what is waited for here: the entry must be > 1 ms old.
      while (Date.now() <= entry.at + 1) await new Promise((res) => setTimeout(res, 1));
      assert.equal(
        (await ts.store.pruneHistory({
          expungedKeep: 0,
          changeLogKeep: 0,
          auditKeepMs: 1,
        })).audit,
        1,
      );

      const uv = String(inbox.uidValidity);
      const imap = String(ts.port("imap"));
      // Older than the kept records: every UID below UIDNEXT the mailbox lacks.
      const old = (await python(QRESYNC, [imap, uv, "1"])).stdout.trim();
      assert.equal(old, "(EARLIER) 1:8");
      // Recent enough: exactly what was expunged since.
      const exact = (await python(QRESYNC, [imap, uv, String(afterSix)])).stdout.trim();
      assert.equal(exact, "(EARLIER) 7:8");

      const changes = async (since: string) =>
        (await jmap.api([[
          "Email/changes",
          { accountId: `a${alice.id}`, sinceState: since },
          "0",
        ]]))[0];
      const tooOld = await changes(early);
      assert.equal(tooOld[0], "error");
      assert.equal(tooOld[1].type, "cannotCalculateChanges");
      const fine = await changes(recent);
      assert.equal(fine[0], "Email/changes", JSON.stringify(fine));
      assert.deepEqual(fine[1].destroyed, []);
    } finally {
      await ts.stop();
    }
  },
});
