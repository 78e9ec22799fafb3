/**
 * Backups of a running server, the way an admin takes them: `backup` while 20 SMTP senders
 * (python smtplib) deliver, `restore` into a new data dir, a second server on it, and every
 * message and flag compared over IMAP; `kill -9` in the middle of a backup leaves the
 * server working and no file that looks complete; `restore` refuses a non-empty dir.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { python } from "./harness.ts";
import { addUserCli, cli, configToml, startServerProcess } from "./lib/server_process.ts";
import { dumpMail } from "./lib/mail_dump.ts";

const USERS = ["ann@example.test", "ben@example.test", "cat@example.test"];
const PASSWORD = "backup-test-password";

/** 20 threads, each sending `perSender` messages (random bodies of ~`kb` KB) over SMTP. */
const SENDERS = `
import smtplib, sys, threading, os, base64
port, per, kb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
users = sys.argv[4:]
errors = []
def send(t):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=120)
        for i in range(per):
            to = users[(t + i) % len(users)]
            body = base64.encodebytes(os.urandom(kb * 768)).decode()
            msg = ("From: s%d@example.org\\r\\nTo: %s\\r\\nSubject: load %d/%d\\r\\n"
                   "Message-ID: <load-%d-%d@example.org>\\r\\n\\r\\n%s" % (t, to, t, i, t, i, body))
            s.sendmail("s%d@example.org" % t, [to], msg.replace("\\n", "\\r\\n").replace("\\r\\r\\n", "\\r\\n"))
        s.quit()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=send, args=(t,)) for t in range(20)]
[t.start() for t in ts]
[t.join() for t in ts]
if errors:
    print("\\n".join(errors)); sys.exit(1)
`;

/** Sets a few flags over IMAP so that the comparison covers them. */
const FLAGS = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
m.uid("STORE", "1:3", "+FLAGS", "(\\\\Seen \\\\Flagged)")
m.uid("STORE", "2", "+FLAGS", "($Label1 \\\\Answered)")
m.uid("STORE", "4", "+FLAGS", "(\\\\Deleted)")
m.logout()
`;

async function setup(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, configToml(join(dir, "data"), ["smtp", "imap"]));
  for (const u of USERS) await addUserCli(config, u, PASSWORD);
  const proc = await startServerProcess(config, ["smtp", "imap"]);
  return { dir, config, proc };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "backup: taken under 20 SMTP senders, restored, every message and flag equal over IMAP",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const a = await setup("denomail-backup-");
    let b: Awaited<ReturnType<typeof startServerProcess>> | null = null;
    try {
      const smtp = String(a.proc.ports.smtp);
      const imap = a.proc.ports.imap;
      await python(SENDERS, [smtp, "1", "2", ...USERS]); // 20 messages before the load
      await python(FLAGS, [String(imap), USERS[0], PASSWORD]);
      const load = python(SENDERS, [smtp, "8", "16", ...USERS]);
      const archive = join(a.dir, "store.backup");
      const r = await cli(["backup", "--out", archive, "--config", a.config]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /backup: .* 3 users, 15 mailboxes, \d+ messages/);
      await load;

      const restored = join(a.dir, "restored");
      const rr = await cli(["restore", archive, "--data-dir", restored]);
      assert.equal(rr.code, 0, rr.stderr + rr.stdout);
      assert.match(rr.stdout, /verify: ok/);
      const config2 = join(a.dir, "restored.toml");
      await Deno.writeTextFile(config2, configToml(restored, ["imap"]));
      b = await startServerProcess(config2, ["imap"]);

      // The snapshot is one moment: per mailbox, UIDs 1..k of the live server, each message
      // and its flags identical; after it, the live server has the rest of the load.
      let total = 0;
      for (const u of USERS) {
        const live = await dumpMail(imap, u, PASSWORD);
        const back = await dumpMail(b.ports.imap, u, PASSWORD);
        assert.deepEqual(Object.keys(back).sort(), Object.keys(live).sort());
        for (const [box, msgs] of Object.entries(back)) {
          const uids = Object.keys(msgs).map(Number).sort((x, y) => x - y);
          assert.deepEqual(uids, uids.map((_, i) => i + 1), `${u} ${box}: UIDs 1..k`);
          for (const uid of uids) {
            assert.equal(msgs[uid], live[box][uid], `${u} ${box} UID ${uid}`);
          }
          total += uids.length;
        }
      }
      const counted = Number(/(\d+) messages/.exec(r.stdout)![1]);
      assert.equal(total, counted, "every message the manifest counts is back");
      assert.ok(total >= 20, `the backup holds the mail delivered before it (${total})`);
      const flagged = (await dumpMail(b.ports.imap, USERS[0], PASSWORD)).INBOX;
      assert.match(flagged["2"], /^\$Label1 \\Answered \\Flagged \\Seen\|/);
      assert.match(flagged["4"], /^\\Deleted\|/);

      const again = await cli(["restore", archive, "--data-dir", restored]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /is not empty/);
      assert.ok(again.stderr.includes(restored));
    } finally {
      await b?.stop();
      await a.proc.stop();
      await Deno.remove(a.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "backup: kill -9 in the middle leaves no complete-looking file and a working server",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const a = await setup("denomail-backup-kill-");
    try {
      const smtp = String(a.proc.ports.smtp);
      await python(SENDERS, [smtp, "6", "300", ...USERS]); // ~36 MB of random text
      const archive = join(a.dir, "killed.backup");
      const main = new URL("../main.ts", import.meta.url).pathname;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", main, "backup", "--out", archive, "--config", a.config],
        stdout: "null",
        stderr: "null",
      }).spawn();
      let exited = false;
      child.status.then(() => exited = true);
      // Killed as soon as the archive is being written (after the snapshot).
      await waitFor("the archive to be started", () => exited || existsSync(`${archive}.partial`));
      child.kill("SIGKILL");
      const status = await child.status;
      assert.ok(status.signal === "SIGKILL", "the backup was killed before it finished");
      assert.ok(!existsSync(archive), "no file under the final name");

      // The server did not notice: it delivers, and the store verifies clean.
      await python(SENDERS, [smtp, "1", "1", ...USERS]);
      const v = await cli(["verify", "--config", a.config]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const ok = await cli(["backup", "--out", archive, "--config", a.config]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(!existsSync(`${archive}.partial`) && !existsSync(`${archive}.partial.db`));
      const t = new Deno.Command("tar", { args: ["-tzf", archive], stdout: "piped" });
      const names = new TextDecoder().decode((await t.output()).stdout).trim().split("\n");
      assert.deepEqual(names.slice(0, 2), ["manifest.json", "denomail.db"]);
      assert.equal(names.at(-1), "backup.sha256");
      assert.ok(names.includes("files/auth_secret"), names.join(" "));
      assert.ok(names.some((n) => n.startsWith("files/tls/")), "the self-signed certificate");
    } finally {
      await a.proc.stop();
      await Deno.remove(a.dir, { recursive: true });
    }
  },
});
