/**
 * Interoperability with Postfix, both ways, all on loopback:
 * - denomail -> Postfix: a private Postfix from ../shared/peers/postfix-start.sh is the MX of
 *   example.test (through the loopback DNS server); a message submitted to denomail with
 *   python smtplib must land in Postfix's Maildir byte for byte, with a DKIM signature that
 *   `mailauth` still verifies there.
 * - Postfix -> denomail: a second private Postfix (main.cf written here) relays everything
 *   to denomail's SMTP port (`relayhost`), using STARTTLS when offered; a message injected
 *   with Postfix's own `sendmail -C` must land in a denomail user's INBOX.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { python, run, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import {
  freePort,
  inbox,
  publishDkimKey,
  startSender,
  verifyDkim,
  waitFor,
} from "./lib/outbound_fixture.ts";

const POSTFIX_START = new URL("../../shared/peers/postfix-start.sh", import.meta.url).pathname;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// These tests need a real Postfix: the postfix package (CI installs it, see .ci/run) and,
// for the destination instance, ../shared/peers/postfix-start.sh, which a fresh clone outside
// CI may lack. Without them the tests are skipped; with them, they must pass (as root, like
// any Postfix start).
const haveRelay = exists("/usr/sbin/postfix");
const haveDestination = haveRelay && exists(POSTFIX_START);

/** A private Postfix instance: its config dir and how to stop it. */
interface PostfixInstance {
  dir: string;
  port: number;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** A temp dir Postfix's daemons (other users) can enter. */
async function postfixDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.chmod(dir, 0o755);
  return dir;
}

function instance(dir: string, port: number): PostfixInstance {
  return {
    dir,
    port,
    log: () => Deno.readTextFile(`${dir}/maillog`).catch(() => ""),
    async stop() {
      await run("postfix", ["-c", `${dir}/etc`, "stop"], { check: false });
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The destination: ../shared/peers/postfix-start.sh (Maildirs under dir/vmail). */
async function startDestinationPostfix(): Promise<PostfixInstance> {
  const dir = await postfixDir("outbound-postfix-dest-");
  const port = freePort();
  await run("bash", [POSTFIX_START, String(port), dir]);
  return instance(dir, port);
}

/**
 * A relaying Postfix: no local delivery at all (mydestination, relay_domains empty), every
 * message goes to `relayhost` with the smtp transport; STARTTLS opportunistic.
 */
async function startRelayPostfix(relayPort: number): Promise<PostfixInstance> {
  const dir = await postfixDir("outbound-postfix-relay-");
  const port = freePort();
  await Deno.mkdir(`${dir}/etc`);
  await Deno.mkdir(`${dir}/spool`);
  await Deno.mkdir(`${dir}/lib`);
  await run("chown", ["postfix", `${dir}/lib`]);
  // master.cf: Debian's, chroot off (no copies of /etc in the spool), smtpd on loopback only.
  const master = (await Deno.readTextFile("/etc/postfix/master.cf")).split("\n").map((line) => {
    if (/^(#|\s)/.test(line)) return line;
    const f = line.trim().split(/\s+/);
    if (f.length < 8) return line;
    f[4] = "n";
    if (f[0] === "smtp" && f[1] === "inet") f[0] = `127.0.0.1:${port}`;
    return f.join(" ");
  }).join("\n");
  await Deno.writeTextFile(`${dir}/etc/master.cf`, master);
  await Deno.writeTextFile(
    `${dir}/etc/main.cf`,
    `# written by tests/outbound_postfix_test.ts -- loopback only, relays everything
compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/lib
myhostname = relay-postfix.localhost
mydomain = localhost
myorigin = relay.localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:${relayPort}
default_transport = smtp
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file_prefixes = /var, /dev/stdout, ${dir}
maillog_file = ${dir}/maillog
syslog_name = postfix-relay-${port}
smtputf8_enable = no
biff = no
`,
  );
  const inst = instance(dir, port);
  try {
    // postfix(1) start forks and returns; its stdio must not stay attached to our pipes.
    await run("script", ["-qec", `postfix -c ${dir}/etc start`, "/dev/null"]);
    await waitFor(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    }, "the relay Postfix to listen");
  } catch (e) {
    await inst.stop();
    throw e;
  }
  return inst;
}

/** Files in a Maildir's new/ directory, read as text. */
async function maildir(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/new`)) {
      if (e.isFile) out.push(await Deno.readTextFile(`${dir}/new/${e.name}`));
    }
  } catch { /* not created yet */ }
  return out;
}

/** Submits a message (argv[4], sent as its UTF-8 bytes) with smtplib, BODY=8BITMIME. */
const SUBMIT = `
import smtplib, sys
port, frm, to, data = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].encode("utf-8")
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.a.test")
s.login(frm, "secret-pw")
s.sendmail(frm, [to], data, mail_options=["BODY=8BITMIME"])
s.quit()
`;

Deno.test({
  name: "outbound: denomail delivers to Postfix (MX of example.test)",
  ignore: !haveDestination,
  fn: async (t) => {
    const dns: TestDnsServer = await startDnsServer({
      "example.test": { MX: [{ preference: 10, exchange: "mx.example.test" }] },
      "mx.example.test": { A: ["127.0.0.1"] },
      "a.test": { MX: [{ preference: 10, exchange: "mx.a.test" }] },
      "mx.a.test": { A: ["127.0.0.1"] },
    });
    let postfix: PostfixInstance | null = null;
    let a: TestServer | null = null;
    try {
      postfix = await startDestinationPostfix();
      a = await startSender(dns, postfix.port);
      await publishDkimKey(dns, a.config.dataDir, "a.test", "pf1");

      await t.step(
        "the message lands in Postfix's Maildir intact and DKIM-verifiable",
        async () => {
          // 8-bit text, a line starting with ".", a folded header, trailing spaces, a blank
          // line inside the body: everything a careless relay would damage.
          const original = "From: Alice <alice@a.test>\r\n" +
            "To: <u1@example.test>\r\n" +
            "Subject: to postfix\r\n" +
            "X-Folded: first part\r\n\tsecond part\r\n" +
            "MIME-Version: 1.0\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Transfer-Encoding: 8bit\r\n" +
            "\r\n" +
            "Grüße aus a.test — ünïcödé.\r\n" +
            ".a line that starts with a dot\r\n" +
            "..two dots\r\n" +
            "trailing spaces   \r\n" +
            "\r\n" +
            "last line\r\n";
          await python(SUBMIT, [
            String(a!.port("submission")),
            "alice@a.test",
            "u1@example.test",
            original,
          ]);
          const [stored] = await waitFor(
            async () => {
              const m = await maildir(`${postfix!.dir}/vmail/u1/Maildir`);
              return m.length > 0 ? m : null;
            },
            "the message in Postfix's Maildir",
          );
          // Maildir files use LF line ends; back to the wire form.
          const wire = stored.replaceAll("\n", "\r\n");
          // Postfix prepends Return-Path, Delivered-To and its Received; denomail prepended
          // DKIM-Signature and its Received. The submitted message follows unchanged.
          assert.ok(
            wire.endsWith(original),
            `the message changed on the way:\n${wire.slice(-original.length - 200)}`,
          );
          assert.match(wire, /^Return-Path: <alice@a\.test>\r\n/); // envelope sender kept
          assert.match(wire, /^Delivered-To: u1@example\.test\r\n/m);
          assert.match(wire, /^DKIM-Signature: .*d=a\.test/m);
          assert.match(wire, /^Received: from [^\r]*\r\n\s+by peers-postfix\.localhost/m);

          const results = await verifyDkim(
            dns,
            Buffer.from(wire, "utf-8"),
            "peers-postfix.localhost",
          );
          assert.equal(results[0]?.signingDomain, "a.test");
          assert.equal(results[0]?.status.result, "pass", JSON.stringify(results));
        },
      );

      await t.step("the queue entry is gone and Postfix logged one sent delivery", async () => {
        await waitFor(async () => (await a!.store.listQueue()).length === 0, "A's queue to empty");
        const log = await postfix!.log();
        assert.match(log, /from=<alice@a\.test>/);
        assert.equal(
          (log.match(/to=<u1@example\.test>, relay=virtual.*status=sent/g) ?? []).length,
          1,
        );
      });
    } finally {
      await a?.stop();
      await postfix?.stop();
      await dns.close();
    }
  },
});

Deno.test({
  name: "outbound: Postfix relays into denomail (relayhost)",
  ignore: !haveRelay,
  fn: async (t) => {
    let b: TestServer | null = null;
    let postfix: PostfixInstance | null = null;
    try {
      b = await startTestServer({ hostname: "mx.b.test" });
      await b.addUser("bob@b.test", "secret-pw");
      postfix = await startRelayPostfix(b.port("smtp"));

      await t.step("sendmail -C injects; Postfix relays over STARTTLS; bob's INBOX", async () => {
        const body = "From: Sender <sender@relay.localhost>\n" +
          "To: <bob@b.test>\n" +
          "Subject: through postfix\n" +
          "\n" +
          "Relayed by Postfix into denomail.\n" +
          ".dot line\n";
        await run("sendmail", [
          "-C",
          `${postfix!.dir}/etc`,
          "-f",
          "sender@relay.localhost",
          "bob@b.test",
        ], { stdin: body });
        const msg = await waitFor(
          async () =>
            (await inbox(b!.store, "bob@b.test")).find((m) => m.includes("through postfix")),
          "the relayed message in bob's INBOX",
        );
        assert.ok(msg.includes("\r\nRelayed by Postfix into denomail.\r\n.dot line\r\n"));
        // denomail's trace header names Postfix's HELO and says TLS was used (ESMTPS).
        assert.match(msg, /^Received: from relay-postfix\.localhost [^\r]*\r\n\s+by mx\.b\.test/m);
        assert.match(msg, /with ESMTPS/);
        // Postfix's own trace header (pickup) comes after ours.
        assert.match(msg, /by relay-postfix\.localhost \(Postfix/);
        const log = await waitFor(async () => {
          const l = await postfix!.log();
          return /to=<bob@b\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*status=sent/.test(l)
            ? l
            : null;
        }, "Postfix to log the relay");
        assert.match(log, /Trusted TLS connection established|TLS connection established/);
      });
    } finally {
      await postfix?.stop();
      await b?.stop();
    }
  },
});
