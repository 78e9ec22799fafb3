/**
 * Mailbox names and per-user limits: RENAME with children and of INBOX (RFC 9051 §6.3.6)
 * with imapflow and python imaplib, names that try to escape or break things, and the
 * per-user connection limit (`limits.max_imap_connections_per_user`, NO [LIMIT]).
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { deliver, flowClient, imaplib, RawPool, sampleMessage } from "./imap_helpers.ts";

const USER = "names@example.test";
const PASS = "names-pw";

Deno.test("imap: RENAME, hostile names, per-user connection limit", async (t) => {
  const ts = await startTestServer({
    limits: { max_imap_connections_per_user: 3, max_bad_commands: 1000 },
  });
  const acc = await ts.addUser(USER, PASS);
  const port = ts.port("imap");
  const raws = new RawPool(port, USER, PASS);
  const login = () => raws.login();
  const closeAll = () => raws.closeAll();
  const names = async () =>
    (await ts.store.listMailboxes(acc.id)).map((m) => m.name).filter((n) =>
      !["Drafts", "Sent", "Trash", "Junk"].includes(n)
    ).sort();
  try {
    await t.step("imapflow: RENAME takes the children along", async () => {
      await ts.store.createMailbox(acc.id, "Proj");
      await ts.store.createMailbox(acc.id, "Proj/a");
      await ts.store.createMailbox(acc.id, "Proj/a/b");
      await deliver(ts, acc.id, sampleMessage("deep"), "Proj/a/b");
      const flow = flowClient(port, ts.certPem, USER, PASS);
      await flow.connect();
      try {
        const r = await flow.mailboxRename("Proj", "Archive/2024");
        assert.equal(r.newPath, "Archive/2024");
        const listed = (await flow.list()).map((b) => b.path).filter((p) =>
          p.startsWith("Archive") || p.startsWith("Proj")
        ).sort();
        assert.deepEqual(listed, ["Archive", "Archive/2024", "Archive/2024/a", "Archive/2024/a/b"]);
        const st = await flow.status("Archive/2024/a/b", { messages: true });
        assert.equal(st && st.messages, 1);
        // Into itself, onto an existing name, from a missing one: refused.
        await assert.rejects(flow.mailboxRename("Archive", "Archive/x"));
        await assert.rejects(flow.mailboxRename("Archive", "INBOX"));
        await assert.rejects(flow.mailboxRename("Nope", "Other"));
      } finally {
        await flow.logout();
      }
    });

    await t.step("imaplib: RENAME INBOX moves its messages, keeps its children", async () => {
      for (const s of ["in one", "in two"]) await deliver(ts, acc.id, sampleMessage(s));
      await ts.store.createMailbox(acc.id, "INBOX/Sub");
      await deliver(ts, acc.id, sampleMessage("in sub"), "INBOX/Sub");
      // Another session has INBOX selected and sees the messages go.
      const watcher = await login();
      await watcher.command("SELECT INBOX");
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
print(m.rename("INBOX", '"Old Inbox"')[0])
for box in ["INBOX", '"Old Inbox"', "INBOX/Sub"]:
    print(m.status(box, "(MESSAGES)")[1][0].decode())
print(m.rename("INBOX", "INBOX/Older")[0])
`,
      );
      assert.deepEqual(lines, [
        "OK",
        '"INBOX" (MESSAGES 0)',
        '"Old Inbox" (MESSAGES 2)',
        '"INBOX/Sub" (MESSAGES 1)',
        "OK",
      ]);
      const n = await watcher.command("NOOP");
      assert.deepEqual(n.lines, ["* 1 EXPUNGE", "* 1 EXPUNGE"]);
      assert.deepEqual(await names(), [
        "Archive",
        "Archive/2024",
        "Archive/2024/a",
        "Archive/2024/a/b",
        "INBOX",
        "INBOX/Older",
        "INBOX/Sub",
        "Old Inbox",
      ]);
      closeAll();
    });

    await t.step("names that try to escape or break things get a clear NO", async () => {
      const c = await login();
      const before = await names();
      for (
        const bad of [
          '"../etc"',
          '"a/../../b"',
          '"x/.."',
          '"*"',
          '"50%"',
          '"tab\there"',
          '"/abs"',
          '"a//b"',
          `"${"ü".repeat(130)}"`,
        ]
      ) {
        const r = await c.command(`CREATE ${bad}`);
        assert.match(r.tagged, /^t\d+ NO \[CANNOT\] Invalid mailbox name: /, bad);
        const rn = await c.command(`RENAME "Old Inbox" ${bad}`);
        assert.match(rn.tagged, /^t\d+ NO \[CANNOT\] Invalid mailbox name: /, bad);
      }
      // NUL and CR/LF can only come in a literal; they are refused too.
      for (const raw of ["nul\0x", "line\r\nbreak", "del\x7f"]) {
        const bytes = new TextEncoder().encode(raw);
        await c.write(`n1 CREATE {${bytes.length}+}\r\n`);
        await c.write(bytes);
        await c.write("\r\n");
        assert.match(
          (await c.until("n1")).tagged,
          /^n1 NO \[CANNOT\] Invalid mailbox name: control/,
        );
      }
      assert.deepEqual(await names(), before);
      closeAll();
    });

    await t.step("per-user connection limit: NO [LIMIT], freed on LOGOUT", async () => {
      const a = await login();
      await login();
      await login();
      const { client: fourth } = await raws.connect();
      const r = await fourth.command(`LOGIN ${USER} ${PASS}`);
      assert.match(r.tagged, /^t\d+ NO \[LIMIT\] Too many connections for this user$/);
      // Still not logged in: commands of the authenticated state are refused.
      assert.match((await fourth.command("SELECT INBOX")).tagged, /BAD .*not allowed/);
      await a.command("LOGOUT");
      await a.drain();
      const out = await python(
        `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
print(m.login(sys.argv[2], sys.argv[3])[0])
try:
    n = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
    n.login(sys.argv[2], sys.argv[3])
except imaplib.IMAP4.error as e:
    print(e)
`,
        [String(port), USER, PASS],
      );
      assert.deepEqual(out.stdout.trim().split("\n"), [
        "OK",
        "b'[LIMIT] Too many connections for this user'",
      ]);
      // Another user is not affected.
      await ts.addUser("other@example.test", PASS);
      await raws.login("other@example.test", PASS);
      closeAll();
    });
  } finally {
    closeAll();
    await ts.stop();
  }
});
