/**
 * The newer Sieve extensions through the running server and the plugin sandbox: bob's
 * active script (stored as the CLI and ManageSieve store it) includes a global script read
 * from the configured `global_dir` (granted to the sandbox by `permissions.read`), sets a
 * global variable there, matches with :regex, edits the header (addheader/deleteheader)
 * and files with :create. Mail sent with smtplib; imaplib reads the stored copy: the edited
 * header is what was delivered. Hostile scripts are cut at their limits and the message kept.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { activateScript, putScript } from "../plugins/builtin/sieve/scripts.ts";

const SCRIPT = `require ["editheader", "include", "variables", "fileinto", "regex", "mailbox"];
global "tag";
include :global "tagging";
if string :is "\${tag}" "" { stop; }
addheader "X-Sieve-Tag" "\${tag}";
deleteheader "X-Secret";
deleteheader "Received";
fileinto :create "\${tag}";
`;

const GLOBAL = `require ["include", "variables", "regex"];
global "tag";
if header :regex "subject" "^\\\\[([a-z]+)\\\\]" { set "tag" "\${1}"; }
`;

const SEND = `
import smtplib, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
for subject in ["[ops] disk full", "no tag here", "(a|aa)*c"]:
    msg = ("From: alice@example.org\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n"
           "X-Secret: hunter2\\r\\n\\r\\nhello\\r\\n") % subject
    s.sendmail("alice@example.org", ["bob@example.test"], msg.encode())
s.quit()
`;

const READ = `
import imaplib, json, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob@example.test", "bob-pw-12345")
out = {}
for box in ["INBOX", "ops"]:
    typ, _ = m.select(box, readonly=True)
    if typ != "OK":
        out[box] = None
        continue
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER])")
    out[box] = [d[1].decode() for d in data if isinstance(d, tuple)]
m.logout()
print(json.dumps(out))
`;

Deno.test("sieve e2e: include :global from global_dir, regex, editheader edits the stored copy", async () => {
  const globalDir = await Deno.makeTempDir({ prefix: "sieve-global-" });
  await Deno.writeTextFile(`${globalDir}/tagging.sieve`, GLOBAL);
  const ts = await startTestServer({
    plugins: [{
      name: "sieve",
      module: "builtin:sieve",
      options: { global_dir: globalDir },
      permissions: { read: [globalDir] },
    }],
  });
  try {
    await ts.addUser("bob@example.test", "bob-pw-12345");
    const kv = storeKv(ts.store, "sieve");
    await putScript(kv, "bob@example.test", "main", SCRIPT);
    await activateScript(kv, "bob@example.test", "main");
    await python(SEND, [String(ts.port("smtp"))]);
    const got = JSON.parse((await python(READ, [String(ts.port("imap"))])).stdout);
    assert.equal(got.ops.length, 1, JSON.stringify(got));
    const [ops] = got.ops as string[];
    assert.match(ops, /^X-Sieve-Tag: ops\r\n/, "added first (RFC 5293 §4)");
    assert.doesNotMatch(ops, /X-Secret/);
    assert.match(ops, /^Received: /m, "Received is protected");
    assert.equal(got.INBOX.length, 2);
    for (const h of got.INBOX as string[]) {
      assert.match(h, /X-Secret: hunter2/, "unedited when the script stops first");
    }
  } finally {
    await ts.stop();
    await Deno.remove(globalDir, { recursive: true });
  }
});

const HOSTILE: Record<string, string> = {
  loop: 'require "include";\ninclude "loop";\n',
  bomb:
    'require "regex";\nif header :regex "subject" ["(a*)*b", "(a|aa)*c", "((a+)+)+d"] { discard; }\n',
  redirects: Array.from({ length: 3000 }, (_, i) => `redirect "u${i}@example.org";`).join("\n"),
  edits: 'require "editheader";\n' + 'addheader "X-Flood" "x";\n'.repeat(500),
};

const SEND_LONG = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
msg = "From: alice@example.org\\r\\nTo: bob@example.test\\r\\nSubject: %s\\r\\n\\r\\nhi\\r\\n" % ("a" * 20000)
s.sendmail("alice@example.org", ["bob@example.test"], msg.encode())
s.quit()
`;

const COUNT = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob@example.test", "bob-pw-12345")
typ, data = m.select("INBOX", readonly=True)
typ, flood = m.search(None, "HEADER", "X-Flood", "x")
print(data[0].decode(), len(flood[0].split()))
m.logout()
`;

Deno.test("sieve e2e: hostile scripts (include loop, regex bombs, 3000 redirects, 500 edits) keep", async () => {
  const ts = await startTestServer({ plugins: [{ name: "sieve", module: "builtin:sieve" }] });
  try {
    await ts.addUser("bob@example.test", "bob-pw-12345");
    const kv = storeKv(ts.store, "sieve");
    let n = 0;
    for (const [name, src] of Object.entries(HOSTILE)) {
      await putScript(kv, "bob@example.test", name, src);
      await activateScript(kv, "bob@example.test", name);
      await python(SEND_LONG, [String(ts.port("smtp"))]);
      n++;
      const [count, flooded] = (await python(COUNT, [String(ts.port("imap"))])).stdout.trim()
        .split(" ").map(Number);
      assert.equal(count, n, `${name}: the message is delivered to INBOX (implicit keep)`);
      assert.equal(flooded, 0, `${name}: an edit over the limit leaves the message as it was`);
    }
    assert.equal((await ts.store.listQueue()).length, 0, "no redirect was queued");
  } finally {
    await ts.stop();
  }
});
