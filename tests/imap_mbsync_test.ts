/**
 * mbsync (isync) syncing a mailbox both ways over STARTTLS: server -> Maildir (all folders),
 * then a message added and a message flagged in the Maildir go up, then a flag change, a
 * delivery and an expunge on the server come down. Skipped when mbsync is not installed
 * (CI installs isync).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run, startTestServer } from "./harness.ts";
import { deliver, sampleMessage } from "./imap_helpers.ts";

const USER = "mbsync@example.test";
const PASS = "mbsync-pw";

const hasMbsync = await new Deno.Command("mbsync", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);

/** Files of a Maildir folder (cur and new), by name. */
async function maildirFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["cur", "new"]) {
    for await (const e of Deno.readDir(join(dir, sub))) out.push(`${sub}/${e.name}`);
  }
  return out.sort();
}

/**
 * Message text as mbsync keeps it comparable: it stores LF line ends in the Maildir and adds
 * an X-TUID header (its upload marker) on both sides.
 */
function normalized(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).replace(/^X-TUID: .*\r?\n/m, "").replace(/\r\n/g, "\n");
}

/** The Maildir info flags of a file name ("...:2,FS" -> "FS"). */
function flagsOf(name: string): string {
  const i = name.indexOf(":2,");
  return i < 0 ? "" : name.slice(i + 3);
}

Deno.test({
  name: "imap: mbsync syncs a mailbox both ways",
  ignore: !hasMbsync,
  fn: async (t) => {
    const ts = await startTestServer();
    const acc = await ts.addUser(USER, PASS);
    const dir = await Deno.makeTempDir({ prefix: "denomail-mbsync-" });
    const mail = join(dir, "mail");
    const rc = join(dir, "mbsyncrc");
    try {
      for (const s of ["one", "two", "three"]) {
        await deliver(ts, acc.id, sampleMessage(`sync ${s}`));
      }
      await ts.store.createMailbox(acc.id, "Work/Projects");
      await deliver(ts, acc.id, sampleMessage("project"), "Work/Projects");
      await Deno.mkdir(mail);
      await Deno.writeTextFile(
        rc,
        [
          "IMAPAccount denomail",
          "Host 127.0.0.1",
          `Port ${ts.port("imap")}`,
          `User ${USER}`,
          `Pass ${PASS}`,
          "SSLType STARTTLS",
          `CertificateFile ${await ts.certFile()}`,
          "",
          "IMAPStore remote",
          "Account denomail",
          "",
          "MaildirStore local",
          `Path ${mail}/`,
          `Inbox ${mail}/INBOX`,
          "SubFolders Verbatim",
          "",
          "Channel sync",
          "Far :remote:",
          "Near :local:",
          "Patterns *",
          "Create Both",
          "Expunge Both",
          "SyncState *",
          "Sync All",
          "",
        ].join("\n"),
      );
      const mbsync = () => run("mbsync", ["-c", rc, "-a"], { env: { HOME: dir } });
      const inbox = (await ts.store.getMailbox(acc.id, "INBOX"))!;

      await t.step("first run: the server's folders and messages arrive", async () => {
        await mbsync();
        const files = await maildirFiles(join(mail, "INBOX"));
        assert.equal(files.length, 3);
        assert.deepEqual(files.map((f) => /,U=(\d+)/.exec(f)?.[1]), ["1", "2", "3"]);
        const body = await Deno.readFile(join(mail, "INBOX", files[0]));
        assert.equal(normalized(body), normalized(sampleMessage("sync one")));
        assert.equal((await maildirFiles(join(mail, "Work/Projects"))).length, 1);
        for (const box of ["Drafts", "Sent", "Trash", "Junk"]) {
          assert.ok((await Deno.stat(join(mail, box, "cur"))).isDirectory, box);
        }
      });

      await t.step("local changes go up: a new message, a flag", async () => {
        const files = await maildirFiles(join(mail, "INBOX"));
        const first = files.find((f) => f.includes(",U=1:"))!;
        await Deno.rename(
          join(mail, "INBOX", first),
          join(mail, "INBOX", "cur", first.slice(4).replace(/:2,.*$/, ":2,FS")),
        );
        const local = new TextEncoder().encode(
          "From: me@example.test\r\nSubject: written offline\r\n\r\nHello from the Maildir.\r\n",
        );
        await Deno.writeFile(join(mail, "INBOX", "new", "1700000000.local1.host"), local);
        await mbsync();
        const msgs = await ts.store.listMessages(inbox.id);
        assert.equal(msgs.length, 4);
        assert.deepEqual(msgs[0].flags.sort(), ["\\Flagged", "\\Seen"]);
        assert.equal(normalized(await ts.store.readBlob(msgs[3].blobId)), normalized(local));
        const renamed = (await maildirFiles(join(mail, "INBOX"))).find((f) => f.includes("local1"));
        assert.match(renamed!, new RegExp(`,U=${msgs[3].uid}`));
      });

      await t.step("server changes come down: flags, a delivery, an expunge", async () => {
        await ts.store.updateFlags({
          mailboxId: inbox.id,
          uids: [2],
          op: "add",
          flags: ["\\Answered"],
        });
        await ts.store.updateFlags({
          mailboxId: inbox.id,
          uids: [3],
          op: "add",
          flags: ["\\Deleted"],
        });
        await ts.store.expunge(inbox.id, [3]);
        const uid = await deliver(ts, acc.id, sampleMessage("arrived later"));
        await mbsync();
        const files = await maildirFiles(join(mail, "INBOX"));
        const byUid = new Map(files.map((f) => [Number(/,U=(\d+)/.exec(f)?.[1]), f]));
        assert.deepEqual([...byUid.keys()].sort((a, b) => a - b), [1, 2, 4, uid]);
        assert.equal(flagsOf(byUid.get(2)!), "R");
        assert.equal(flagsOf(byUid.get(1)!), "FS");
        assert.equal(
          normalized(await Deno.readFile(join(mail, "INBOX", byUid.get(uid)!))),
          normalized(sampleMessage("arrived later")),
        );
      });
    } finally {
      await ts.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
