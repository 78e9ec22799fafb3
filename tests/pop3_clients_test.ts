/**
 * The POP3 listeners with real clients: fetchmail (keep + UIDL, then flush, over STLS with
 * the self-signed certificate verified), python poplib (plain, stls(), POP3_SSL) and curl
 * (pop3:// with SASL-IR, pop3s://), reading byte-exact messages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Account } from "../storage/mod.ts";
import { python, run, startTestServer, type TestServer } from "./harness.ts";

const enc = new TextEncoder();

async function deliver(ts: TestServer, acc: Account, message: Uint8Array) {
  await ts.store.deliver(message, [{ accountId: acc.id, mailbox: "INBOX" }]);
}

async function inbox(ts: TestServer, acc: Account) {
  const box = await ts.store.getMailbox(acc.id, "INBOX");
  assert.ok(box);
  return await ts.store.listMessages(box.id);
}

/** A message with dot lines and 8-bit bytes, CRLF line ends. */
function tricky(tag: string): Uint8Array {
  return new Uint8Array([
    ...enc.encode(`From: sender@example.org\r\nSubject: ${tag}\r\n\r\n`),
    ...enc.encode(`.a line with a leading dot\r\n..two\r\n.\r\n`),
    ...[0x6e, 0x61, 0xc3, 0xaf, 0x76, 0x65, 0x20, 0xe9, 0xff, 0x0d, 0x0a], // "naïve " + 8-bit
    ...enc.encode(`end of ${tag}\r\n`),
  ]);
}

Deno.test("pop3 with real clients", async (t) => {
  const ts = await startTestServer();
  const ca = await ts.certFile();
  try {
    await t.step(
      "curl pop3:// (AUTH PLAIN with SASL-IR) and pop3s:// read byte-exact",
      async () => {
        const acc = await ts.addUser("curl@example.test", "curl-pw");
        const m1 = tricky("curl one");
        const m2 = tricky("curl two");
        await deliver(ts, acc, m1);
        await deliver(ts, acc, m2);
        const list = await run("curl", [
          "-sS",
          "--user",
          "curl@example.test:curl-pw",
          `pop3://127.0.0.1:${ts.port("pop3")}/`,
        ]);
        assert.equal(list.stdout, `1 ${m1.length}\r\n2 ${m2.length}\r\n`);
        const plain = await run("curl", [
          "-sS",
          "--sasl-ir",
          "--login-options",
          "AUTH=PLAIN",
          "--user",
          "curl@example.test:curl-pw",
          `pop3://127.0.0.1:${ts.port("pop3")}/1`,
        ]);
        assert.deepEqual(plain.stdoutBytes, m1);
        const tls = await run("curl", [
          "-sS",
          "--cacert",
          ca,
          "--user",
          "curl@example.test:curl-pw",
          `pop3s://127.0.0.1:${ts.port("pop3s")}/2`,
        ]);
        assert.deepEqual(tls.stdoutBytes, m2);
        // curl with --ssl-reqd upgrades the pop3 listener with STLS and logs in with LOGIN.
        const stls = await run("curl", [
          "-sS",
          "--ssl-reqd",
          "--cacert",
          ca,
          "--login-options",
          "AUTH=LOGIN",
          "--user",
          "curl@example.test:curl-pw",
          `pop3://127.0.0.1:${ts.port("pop3")}/1`,
        ]);
        assert.deepEqual(stls.stdoutBytes, m1);
        // curl -X DELE deletes, in UPDATE at its QUIT.
        await run("curl", [
          "-sS",
          "--user",
          "curl@example.test:curl-pw",
          "-X",
          "DELE",
          "-I",
          `pop3://127.0.0.1:${ts.port("pop3")}/1`,
        ]);
        const left = await inbox(ts, acc);
        assert.equal(left.length, 1);
        assert.deepEqual(await ts.store.readBlob(left[0].blobId), m2);
      },
    );

    await t.step("python poplib: plain, stls(), POP3_SSL", async () => {
      const acc = await ts.addUser("poplib@example.test", "poplib-pw");
      const m = tricky("poplib");
      await deliver(ts, acc, m);
      const r = await python(
        `
import poplib, ssl, sys
port, sport, ca, user, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
out = sys.stdout.buffer

c = poplib.POP3("127.0.0.1", port)
caps = c.capa()
assert "STLS" in caps and "USER" in caps and "UIDL" in caps, caps
c.user(user); c.pass_(pw)
resp, lines, octets = c.retr(1)
out.write(b"\\r\\n".join(lines) + b"\\r\\n")
out.write(b"--\\n")
c.quit()

c = poplib.POP3("127.0.0.1", port)
c.stls(context=ctx)
assert "STLS" not in c.capa()
c.user(user); c.pass_(pw)
out.write(repr(c.stat()).encode() + b"\\n")
out.write(c.uidl(1) + b"\\n")
c.quit()

c = poplib.POP3_SSL("127.0.0.1", sport, context=ctx)
c.user(user); c.pass_(pw)
out.write(b"\\n".join(c.top(1, 1)[1]) + b"\\n")
c.dele(1)
out.write(c.quit() + b"\\n")
`,
        [String(ts.port("pop3")), String(ts.port("pop3s")), ca, "poplib@example.test", "poplib-pw"],
      );
      const sep = r.stdoutBytes.indexOf(0x2d); // first "-" of "--\n" follows the message
      assert.deepEqual(r.stdoutBytes.subarray(0, sep), m.subarray(0, sep));
      const text = new TextDecoder().decode(r.stdoutBytes);
      assert.ok(text.startsWith(new TextDecoder().decode(m) + "--\n"), text);
      const tail = text.slice(new TextDecoder().decode(m).length + 3).split("\n");
      assert.equal(tail[0], `(1, ${m.length})`);
      assert.match(tail[1], /^\+OK 1 \d+\.\d+$/);
      assert.deepEqual(tail.slice(2, 6), [
        "From: sender@example.org",
        "Subject: poplib",
        "",
        ".a line with a leading dot",
      ]);
      assert.match(tail[6], /^\+OK Bye, 1 messages deleted/);
      assert.equal((await inbox(ts, acc)).length, 0);
    });

    await t.step("fetchmail over STLS: keep with UIDL, then flush", async () => {
      const acc = await ts.addUser("fetch@example.test", "fetch-pw");
      const m1 = tricky("fetch one");
      const m2 = tricky("fetch two");
      await deliver(ts, acc, m1);
      await deliver(ts, acc, m2);
      const home = await Deno.makeTempDir({ prefix: "denomail-fetchmail-" });
      try {
        const out = join(home, "out.mbox");
        const rc = join(home, "fetchmailrc");
        const writeRc = async (mode: string) => {
          await Deno.writeTextFile(
            rc,
            `set no syslog\n` +
              `poll 127.0.0.1 port ${ts.port("pop3")} proto pop3 uidl auth password timeout 20\n` +
              `  user "fetch@example.test" there with password "fetch-pw" is "root" here\n` +
              // sslproto without "ssl" makes fetchmail require STLS; the certificate is
              // checked against our CA and the server name it carries.
              `  ${mode} sslproto "tls1.2+" sslcertck sslcertfile "${ca}"` +
              ` sslcommonname "mail.example.test" mda "cat >> ${out}"\n`,
          );
          await Deno.chmod(rc, 0o600);
        };
        // --pidfile: as root, fetchmail otherwise locks /var/run/fetchmail.pid, shared with
        // every other fetchmail on the machine (parallel tests would collide).
        const fetchmail = () =>
          run("fetchmail", [
            "-v",
            "-f",
            rc,
            "-i",
            join(home, "ids"),
            "--pidfile",
            join(home, "fetchmail.pid"),
            "--nosyslog",
          ], {
            env: { HOME: home, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
            check: false,
          });

        await writeRc("keep");
        let r = await fetchmail();
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stderr + r.stdout, /POP3> STLS/);
        assert.match(r.stderr + r.stdout, /upgrade to TLS succeeded/);
        const got = await Deno.readTextFile(out);
        const dec = new TextDecoder();
        for (const m of [m1, m2]) {
          // fetchmail adds a Received: header and writes LF line ends to the MDA.
          const body = dec.decode(m).replaceAll("\r\n", "\n");
          assert.ok(got.includes(body), `fetchmail output lacks:\n${body}\ngot:\n${got}`);
        }
        assert.equal((await inbox(ts, acc)).length, 2, "keep leaves the messages");

        // Same UIDs next time: nothing new to fetch (fetchmail exits 1, "no mail").
        r = await fetchmail();
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /2 messages \(2 seen\)/);

        // A new message is the only one fetched; then flush removes everything.
        const m3 = tricky("fetch three");
        await deliver(ts, acc, m3);
        await writeRc("nokeep flush");
        r = await fetchmail();
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /3 messages \(2 seen\)/);
        assert.ok((await Deno.readTextFile(out)).includes("Subject: fetch three"));
        assert.equal((await inbox(ts, acc)).length, 0, "flush and nokeep delete at QUIT");
      } finally {
        await Deno.remove(home, { recursive: true });
      }
    });
  } finally {
    await ts.stop();
  }
});
