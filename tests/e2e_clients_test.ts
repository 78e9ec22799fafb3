/**
 * The first end-to-end mail path, as a new user meets it: `serve` from a config file, a
 * user added with the CLI, a message sent with swaks to the MX listener, and the same bytes
 * read back with curl (IMAP and POP3), python imaplib and poplib, imapflow and fetchmail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { cli, configToml, startServerProcess } from "./lib/server_process.ts";
import { python, run } from "./harness.ts";

const SMOKE = new URL("../../shared/peers/clients-smoke.sh", import.meta.url).pathname;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("e2e: swaks -> MX -> byte-exact reads with curl, imaplib, imapflow, poplib, fetchmail", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-e2e-" });
  const configPath = join(dir, "x.toml");
  const all = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s"];
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, all));
  const user = "alice@example.test";
  const pass = "alice-secret-pw";
  const add = await cli(["user", "add", user, "--password-stdin"], {
    stdin: pass + "\n",
    env: { DENOMAIL_CONFIG: configPath },
  });
  assert.equal(add.code, 0, add.stderr);
  const server = await startServerProcess(configPath, all);
  const { smtp, imap, pop3 } = server.ports;
  try {
    const token = `e2e-${crypto.randomUUID()}`;
    await t.step("swaks sends to the MX listener", async () => {
      const r = await run("swaks", [
        "--server",
        `127.0.0.1:${smtp}`,
        "--from",
        "sender@example.org",
        "--to",
        user,
        "--helo",
        "client.example.org",
        "--header",
        `Subject: ${token}`,
        "--body",
        `body line for ${token}\n.a line with a leading dot\nnaïve 8-bit line`,
      ]);
      assert.match(r.stdout, /<- {2}250 /);
    });

    let reference = "";
    await t.step("curl IMAP finds and fetches it", async () => {
      const search = await run("curl", [
        "-s",
        "--user",
        `${user}:${pass}`,
        `imap://127.0.0.1:${imap}/INBOX`,
        "-X",
        `UID SEARCH SUBJECT "${token}"`,
      ]);
      const uid = /\* SEARCH (\d+)/.exec(search.stdout)?.[1];
      assert.ok(uid, `not found: ${search.stdout}`);
      const fetched = await run("curl", [
        "-s",
        "--user",
        `${user}:${pass}`,
        `imap://127.0.0.1:${imap}/INBOX;UID=${uid}`,
      ]);
      reference = fetched.stdout;
      assert.match(reference, new RegExp(`Subject: ${token}`));
      assert.match(reference, /\r\n\.a line with a leading dot\r\n/);
      assert.match(reference, /^Return-Path: <sender@example\.org>\r\nReceived: from /);
    });

    await t.step("python imaplib returns the same bytes", async () => {
      const r = await python(
        `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
typ, d = m.uid("SEARCH", None, "SUBJECT", '"%s"' % sys.argv[4]); uid = d[0].split()[-1]
typ, d = m.uid("FETCH", uid, "(BODY.PEEK[])")
sys.stdout.buffer.write(d[0][1]); m.logout()`,
        [String(imap), user, pass, token],
      );
      assert.equal(r.stdout, reference);
    });

    await t.step("imapflow returns the same bytes", async () => {
      const client = new ImapFlow({
        host: "127.0.0.1",
        port: imap,
        secure: false,
        auth: { user, pass },
        logger: false,
        tls: { rejectUnauthorized: false },
      });
      await client.connect();
      try {
        const lock = await client.getMailboxLock("INBOX");
        try {
          const uids = await client.search({ subject: token }, { uid: true });
          assert.ok(uids && uids.length === 1);
          const msg = await client.fetchOne(String(uids[0]), { source: true }, { uid: true });
          assert.ok(msg && msg.source);
          assert.equal(new TextDecoder().decode(msg.source), reference);
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
    });

    await t.step("python poplib and curl POP3 return the same bytes", async () => {
      const r = await python(
        `
import poplib, sys
c = poplib.POP3("127.0.0.1", int(sys.argv[1])); c.user(sys.argv[2]); c.pass_(sys.argv[3])
n, _ = c.stat(); lines = c.retr(n)[1]; c.quit()
sys.stdout.buffer.write(b"\\r\\n".join(lines) + b"\\r\\n")`,
        [String(pop3), user, pass],
      );
      assert.equal(r.stdout, reference);
      const c = await run("curl", [
        "-s",
        "--user",
        `${user}:${pass}`,
        `pop3://127.0.0.1:${pop3}/1`,
      ]);
      assert.equal(c.stdout, reference);
    });

    await t.step("fetchmail retrieves it", async () => {
      const home = join(dir, "fm");
      await Deno.mkdir(home);
      const rc = join(home, "fetchmailrc");
      await Deno.writeTextFile(
        rc,
        `set no syslog\npoll 127.0.0.1 port ${pop3} proto pop3 auth password timeout 20\n` +
          `  user "${user}" there with password "${pass}" is "root" here\n` +
          `  keep fetchall sslproto '' mda "cat >> ${home}/out.mbox"\n`,
      );
      await Deno.chmod(rc, 0o600);
      const r = await run("fetchmail", [
        "-f",
        rc,
        "-i",
        join(home, "ids"),
        "--pidfile",
        join(home, "pid"),
        "--nosyslog",
      ], {
        env: { HOME: home },
        check: false,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // fetchmail adds its own Received header (with tab-indented continuation lines).
      const got = (await Deno.readTextFile(join(home, "out.mbox"))).replaceAll("\r\n", "\n")
        .replace(/^Received: [^\n]*\n\tby \S+ with POP3 \(fetchmail[^\n]*\n(\t[^\n]*\n)*/m, "");
      assert.ok(got.includes(reference.replaceAll("\r\n", "\n")), "fetchmail output differs");
    });

    if (await exists(SMOKE)) {
      await t.step("shared/peers/clients-smoke.sh passes", async () => {
        const r = await run(
          "bash",
          [SMOKE, String(smtp), String(imap), String(pop3), user, pass],
          { env: { RCPT: user, WAIT: "10" }, check: false },
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /PASS: all client checks succeeded/);
      });
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
