/**
 * Issue 13 item 15 / CONTRACT, Logging: every refusal and every failed authentication is
 * logged at info with the session id, the client address and the address or login; the
 * accepted line and the queue's lines share one id. A real server process (stderr captured),
 * real clients (python smtplib, imaplib, poplib).
 */
import assert from "node:assert/strict";
import { python } from "./harness.ts";
import { addUserCli, configToml, startServerProcess } from "./lib/server_process.ts";
import { codes, message, smtpDialog } from "./smtp_helpers.ts";

const HELLO_PLUGIN = new URL("./fixtures/plugins/hello.ts", import.meta.url).pathname;

/** The fields of every `[category] msg k=v ...` line (values JSON-quoted when needed). */
function events(log: string, category: string, msg: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const head = ` [${category}] ${msg} `;
  for (const line of log.split("\n")) {
    const at = line.indexOf(head);
    if (at < 0) continue;
    const fields: Record<string, string> = Object.create(null);
    for (const m of line.slice(at + head.length).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      fields[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    }
    out.push(fields);
  }
  return out;
}

/** Polls the server's log until `pred` holds (no fixed sleeps); fails after `ms`. */
async function waitForLog(log: () => string, pred: (text: string) => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!pred(log())) {
    if (Date.now() > end) throw new Error(`log condition not met; log:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const LOGIN_FAILURES = `
import imaplib, poplib, json, sys
port_imap, port_pop = int(sys.argv[1]), int(sys.argv[2])
out = {}
i = imaplib.IMAP4("127.0.0.1", port_imap)
try:
    i.login("alice@example.test", "wrong-imap")
except imaplib.IMAP4.error as e:
    out["imap"] = str(e)
i.logout()
p = poplib.POP3("127.0.0.1", port_pop)
p.user("alice@example.test")
try:
    p.pass_("wrong-pop")
except poplib.error_proto as e:
    out["pop"] = e.args[0].decode()
p.quit()
print(json.dumps(out))
`;

Deno.test("refusals and failed logins are logged with session, client and address", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-refusal-log-" });
  const configPath = `${dir}/denomail.toml`;
  const tables = `[limits]\nmax_message_bytes = 2048\n` +
    `[dns]\nnameserver = "127.0.0.1:9"\ntimeout = "500ms"\n` +
    `[delivery]\nretry_schedule = ["1h"]\n` +
    `[[plugins]]\nname = "hello"\nmodule = "${HELLO_PLUGIN}"\n`;
  await Deno.writeTextFile(
    configPath,
    configToml(`${dir}/data`, ["smtp", "submission", "imap", "pop3"], { tables }),
  );
  await addUserCli(configPath, "alice@example.test", "alice-password");
  await addUserCli(configPath, "someone@blocked.test", "someone-password");
  const server = await startServerProcess(configPath, ["smtp", "submission", "imap", "pop3"]);
  const refused = () => events(server.log(), "smtp", "refused");
  try {
    await t.step("MX: unknown recipient, relay attempt, plugin reject, size", async () => {
      const r = await smtpDialog(server.ports.smtp, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<x@remote.test>"],
        ["cmd", "RCPT TO:<nobody@example.test>"],
        ["cmd", "RCPT TO:<victim@elsewhere.test>"],
        ["cmd", "RCPT TO:<someone@blocked.test>"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["data", message("big", "x".repeat(3000) + "\r\n")],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "550 5.1.1",
        "550 5.7.1",
        "550 5.7.1",
        "250 2.1.5",
        "552 5.3.4",
        "221 2.0.0",
      ]);
      const lines = refused();
      const session = lines.find((l) => l.address === "nobody@example.test")?.session;
      assert.match(session ?? "", /^mx-\w+$/, "the unknown recipient is logged");
      const mine = lines.filter((l) => l.session === session);
      const pick = (f: (l: Record<string, string>) => boolean) => {
        const l = mine.find(f);
        assert.ok(l, `no matching line in ${JSON.stringify(mine)}`);
        assert.equal(l.ip, "127.0.0.1");
        return l;
      };
      const unknown = pick((l) => l.address === "nobody@example.test");
      assert.equal(unknown.cmd, "RCPT");
      assert.equal(unknown.reply, "550 5.1.1");
      assert.equal(unknown.from, "x@remote.test");
      assert.equal(pick((l) => l.address === "victim@elsewhere.test").reply, "550 5.7.1");
      const plugin = pick((l) => l.address === "someone@blocked.test");
      assert.equal(plugin.reply, "550 5.7.1");
      assert.match(plugin.text, /blocked\.test is not welcome/);
      const size = pick((l) => l.cmd === "DATA");
      assert.equal(size.reply, "552 5.3.4");
      assert.equal(size.from, "x@remote.test");
      assert.equal(size.to, "alice@example.test");
    });

    await t.step("submission: failed AUTH names the login, never the password", async () => {
      const r = await smtpDialog(server.ports.submission, [
        ["ehlo"],
        ["auth", "PLAIN", "alice@example.test", "wrong-smtp-password"],
        ["auth", "LOGIN", "bob@example.test", "wrong-smtp-password"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), ["535 5.7.8", "535 5.7.8", "221 2.0.0"]);
      const auth = refused().filter((l) => l.cmd === "AUTH");
      assert.deepEqual(auth.map((l) => [l.login, l.mechanism, l.reply]), [
        ["alice@example.test", "PLAIN", "535 5.7.8"],
        ["bob@example.test", "LOGIN", "535 5.7.8"],
      ]);
      assert.match(auth[0].session, /^submission-\w+$/);
      assert.equal(auth[0].ip, "127.0.0.1");
      assert.ok(!server.log().includes("wrong-smtp-password"), "no password in the log");
    });

    await t.step("IMAP LOGIN and POP3 USER/PASS failures are logged at info", async () => {
      const r = await python(LOGIN_FAILURES, [
        String(server.ports.imap),
        String(server.ports.pop3),
      ]);
      const out = JSON.parse(r.stdout);
      assert.match(out.imap, /AUTHENTICATIONFAILED/);
      assert.match(out.pop, /^-ERR/);
      const imap = events(server.log(), "imap", "login failed");
      assert.equal(imap.length, 1);
      assert.match(imap[0].session, /^imap-\w+$/);
      assert.equal(imap[0].ip, "127.0.0.1");
      assert.equal(imap[0].login, "alice@example.test");
      const pop = events(server.log(), "pop3", "login failed");
      assert.equal(pop.length, 1);
      assert.match(pop[0].session, /^pop3-\w+$/);
      assert.equal(pop[0].ip, "127.0.0.1");
      assert.equal(pop[0].login, "alice@example.test");
      assert.ok(!/wrong-(imap|pop)/.test(server.log()), "no password in the log");
      assert.ok(server.log().includes("INFO  [imap] login failed"), "at info");
    });

    await t.step("the accepted line and the queue's lines share one id", async () => {
      const r = await smtpDialog(server.ports.submission, [
        ["ehlo"],
        ["login", "alice@example.test", "alice-password"],
        [
          "sendmail",
          "alice@example.test",
          ["far@remote.test"],
          "From: alice@example.test\r\nSubject: out\r\n\r\nhi\r\n",
        ],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), ["235 2.7.0", "250", "221 2.0.0"]);
      const accepted = events(server.log(), "smtp", "accepted").find((l) =>
        l.to === "far@remote.test"
      );
      assert.ok(accepted, server.log());
      assert.match(accepted.session, /^submission-\w+$/);
      assert.equal(accepted.ip, "127.0.0.1");
      assert.equal(accepted.user, "alice@example.test");
      assert.match(accepted.queue, /^\d+$/);
      // The queue tries (the resolver is unreachable) and defers: its line names both ids.
      await waitForLog(server.log, (text) => events(text, "queue", "deferred").length > 0);
      const deferred = events(server.log(), "queue", "deferred")[0];
      assert.equal(deferred.id, accepted.queue);
      assert.equal(deferred.message, accepted.id);
    });
  } finally {
    if (Deno.env.get("SHOW_LOG")) console.log(server.log());
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
