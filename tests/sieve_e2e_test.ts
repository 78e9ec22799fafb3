/**
 * builtin:sieve end to end, the way an admin and a user meet it: `denomail serve` with the
 * plugin configured, a script stored and activated with the CLI (`sieve put`, `sieve
 * activate`, `sieve list`), mail sent with python3 smtplib, and the result read with
 * imaplib: the list message filed into "Lists" (created by :create) with its flag, the other
 * message in INBOX, a discarded one nowhere, a redirected one sent through the outbound
 * queue with an SRS0 envelope sender (the bounce from an unresolvable domain goes to the SRS
 * address, which routes it back to the original sender).
 */
import assert from "node:assert/strict";
import { addUserCli, cli, startDenomailProcess } from "./lib/server_process.ts";
import { python } from "./harness.ts";
import { RawImap } from "./imap_helpers.ts";

const USER = "bob@example.test";
const PASS = "bob-secret-pw";
const ALICE = "alice@example.test";

const SCRIPT = `require ["fileinto", "imap4flags", "mailbox"];
if header :contains "List-Id" "acme-users" {
  addflag "$Lists";
  fileinto :create "Lists";
} elsif header :is "Subject" "drop me" {
  discard;
} elsif header :is "Subject" "forward me" {
  redirect "carol@remote.invalid";
}
`;

const SEND = `
import smtplib, sys
port, user = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
for subject, extra in [("list mail", "List-Id: Acme <acme-users.lists.example.org>\\r\\n"),
                       ("plain mail", ""), ("drop me", ""), ("forward me", "")]:
    msg = "From: alice@example.test\\r\\nTo: %s\\r\\nSubject: %s\\r\\n%s\\r\\nhello\\r\\n" % (user, subject, extra)
    s.sendmail("alice@example.test", [user], msg.encode())
s.quit()
`;

const READ = `
import imaplib, json, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
out = {}
for box in ["INBOX", "Lists"]:
    typ, count = m.select(box, readonly=True)
    if typ != "OK":
        out[box] = None
        continue
    data = [] if count[0] == b"0" else m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1]
    items = []
    for d in data:
        if isinstance(d, tuple):
            flags = d[0].decode().split("FLAGS (")[1].split(")")[0].split()
            flags = " ".join(f for f in flags if f != "\\\\Recent")
            items.append([d[1].decode().strip(), flags])
    out[box] = items
    if box == "INBOX":
        typ, data = m.search(None, "TEXT", '"carol@remote.invalid"')
        out["bounces"] = len(data[0].split())
m.logout()
print(json.dumps(out))
`;

Deno.test("sieve e2e: CLI put/activate, smtplib, imaplib reads folder and flags", async () => {
  const d = await startDenomailProcess({
    prefix: "denomail-sieve-",
    listen: ["smtp", "imap"],
    user: [USER, PASS],
    tables: '[[plugins]]\nname = "sieve"\nmodule = "builtin:sieve"\n',
  });
  try {
    await addUserCli(d.configPath, ALICE, PASS);
    const file = `${d.dir}/filter.sieve`;
    await Deno.writeTextFile(file, SCRIPT);
    const sieve = (...args: string[]) => cli(["sieve", ...args, "--config", d.configPath]);
    const put = await sieve("put", USER, "main", file);
    assert.equal(put.code, 0, put.stderr);
    const act = await sieve("activate", USER, "main");
    assert.equal(act.code, 0, act.stderr);
    const list = await sieve("list", USER);
    assert.equal(list.stdout.trim(), "main  ACTIVE");

    await Deno.writeTextFile(`${d.dir}/bad.sieve`, 'require "fileinto";\nif frob { keep; }\n');
    const bad = await sieve("put", USER, "bad", `${d.dir}/bad.sieve`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /line 2:4: unknown test "frob"/);

    await python(SEND, [String(d.proc.ports.smtp), USER]);
    // The redirect goes through the queue with the sender rewritten by SRS (core/srs.ts):
    // remote.invalid does not resolve, so the bounce goes to the SRS address at
    // example.test, which our router turns back into the original sender, the local
    // alice@example.test: she gets the bounce, bob does not.
    const deadline = Date.now() + 20_000;
    let alice;
    for (;;) {
      alice = JSON.parse((await python(READ, [String(d.proc.ports.imap), ALICE, PASS])).stdout);
      if (alice.bounces > 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(alice.bounces, 1, JSON.stringify(alice));
    const read = JSON.parse((await python(READ, [String(d.proc.ports.imap), USER, PASS])).stdout);
    assert.deepEqual(read.Lists, [["Subject: list mail", "$Lists"]]);
    assert.equal(read.bounces, 0, JSON.stringify(read));
    const subjects = read.INBOX.map((m: string[]) => m[0]).sort();
    assert.deepEqual(
      subjects,
      ["Subject: plain mail"],
      "the discarded and the redirected messages are not in INBOX",
    );
  } finally {
    await d.stop();
  }
});

Deno.test("sieve e2e: a script's keywords stop at the mailbox's 1,000, the mail is delivered", async () => {
  const d = await startDenomailProcess({
    prefix: "denomail-sieve-kw-",
    listen: ["smtp", "imap"],
    user: [USER, PASS],
    tables: '[[plugins]]\nname = "sieve"\nmodule = "builtin:sieve"\n',
  });
  try {
    // Every message gets a keyword of its own, from its subject.
    const file = `${d.dir}/tags.sieve`;
    await Deno.writeTextFile(
      file,
      'require ["imap4flags", "variables"];\nif header :matches "Subject" "tag *" { addflag "${1}"; }\n',
    );
    const sieve = (...args: string[]) => cli(["sieve", ...args, "--config", d.configPath]);
    assert.equal((await sieve("put", USER, "tags", file)).code, 0);
    assert.equal((await sieve("activate", USER, "tags")).code, 0);
    const imap = await RawImap.login(d.proc.ports.imap, USER, PASS);
    try {
      const msg = "Subject: filled\r\n\r\nx\r\n";
      for (let m = 0; m < 10; m++) {
        const flags = Array.from({ length: 100 }, (_, i) => `m${m}-${i}`).join(" ");
        const tag = imap.nextTag();
        await imap.write(`${tag} APPEND INBOX (${flags}) {${msg.length}+}\r\n${msg}\r\n`);
        assert.match((await imap.until(tag)).tagged, / OK /);
      }
      await python(
        `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
for subject in ["tag overflow", "tag m3-5"]:
    s.sendmail("alice@example.test", [sys.argv[2]], ("From: alice@example.test\\r\\nSubject: %s\\r\\n\\r\\nhi\\r\\n" % subject).encode())
s.quit()
`,
        [String(d.proc.ports.smtp), USER],
      );
      assert.match((await imap.command("SELECT INBOX")).tagged, / OK /);
      const flagsOf = async (subject: string) => {
        const found = await imap.command(`UID SEARCH SUBJECT "${subject}"`);
        const uid = found.lines[0].split(" ")[2];
        assert.ok(uid, `"${subject}" was delivered`);
        const f = await imap.command(`UID FETCH ${uid} FLAGS`);
        return f.lines[0].slice(f.lines[0].indexOf("FLAGS (") + 7).split(")")[0].split(" ");
      };
      // Before, each arriving message added a keyword to the mailbox, without end.
      assert.ok(!(await flagsOf("tag overflow")).includes("overflow"));
      assert.ok((await flagsOf("tag m3-5")).includes("m3-5"));
    } finally {
      imap.close();
    }
  } finally {
    await d.stop();
  }
});
