/**
 * The auth and spam plugins end to end: messages sent with python3 smtplib (and swaks)
 * to a server with both plugins and a loopback DNS server; each verdict path (headers
 * only -> INBOX, Junk, 550 5.7.1 at the end of DATA), DMARC p=reject, and learning: a
 * message moved into Junk with imapflow `messageMove` makes a similar message score higher.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { python, run, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { mailboxTexts, seedBayesHistory, until } from "./spam_helpers.ts";
import { GLOBAL, messageKey, userScope } from "../plugins/builtin/spam/model.ts";

const FIX = new URL("./fixtures/spam/", import.meta.url);
const fixturePath = (name: string) => new URL(name, FIX).pathname;
const USER = "u@example.test";

/** Sends a file with smtplib; prints [rcpt code, data code, data text]. */
const SEND = `
import json, smtplib, sys
port, sender, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.example.org")
s.mail(sender)
code, _ = s.rcpt(rcpt)
data = open(path, "rb").read()
dcode, dtext = s.data(data) if code == 250 else (0, b"")
s.quit()
print(json.dumps([code, dcode, dtext.decode()]))
`;

async function send(ts: TestServer, sender: string, file: string, rcpt = USER) {
  const r = await python(SEND, [String(ts.port("smtp")), sender, rcpt, file]);
  const [rcptCode, dataCode, dataText] = JSON.parse(r.stdout) as [number, number, string];
  return { rcptCode, dataCode, dataText };
}

/** The messages of a user's mailbox as text, oldest first. */
function mailbox(ts: TestServer, name: string): Promise<string[]> {
  return mailboxTexts(ts.store, USER, name);
}

function headerOf(text: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)$`, "mi").exec(text)?.[1];
}

Deno.test("auth + spam plugins through SMTP and IMAP", async (t) => {
  const dns = await startDnsServer({
    "strict.example": { TXT: ["v=spf1 ip4:192.0.2.1 -all"] },
    "_dmarc.strict.example": { TXT: ["v=DMARC1; p=reject"] },
    "colleagues.example": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
  });
  const ts = await startTestServer({
    dns: { nameserver: dns.nameserver },
    plugins: [
      { name: "auth", module: "builtin:auth", options: { authserv_id: "mx.example.test" } },
      {
        name: "spam",
        module: "builtin:spam",
        options: { junk_score: 5, reject_score: 10, bayes_min_learned: 3 },
      },
    ],
  });
  const dir = await Deno.makeTempDir({ prefix: "denomail-spamsmtp-" });
  try {
    await ts.addUser(USER, "spam-test-pw");
    await t.step("clean mail: X-Spam headers and Authentication-Results, in INBOX", async () => {
      const r = await send(ts, "alice@colleagues.example", fixturePath("ham/01.eml"));
      assert.deepEqual([r.rcptCode, r.dataCode], [250, 250]);
      const [msg] = await mailbox(ts, "INBOX");
      assert.match(headerOf(msg, "X-Spam-Status")!, /^No, score=/);
      assert.match(headerOf(msg, "Authentication-Results")!, /^mx\.example\.test; .*spf=pass/);
      assert.match(headerOf(msg, "X-Spam-Status")!, /SPF_PASS/);
    });
    await t.step("over junk_score: delivered to Junk, tagged Yes", async () => {
      const r = await send(ts, "alerts@phish.example", fixturePath("rules/phish_html.eml"));
      assert.equal(r.dataCode, 250);
      const junk = await mailbox(ts, "Junk");
      assert.equal(junk.length, 1);
      assert.match(headerOf(junk[0], "X-Spam-Status")!, /^Yes, .*HTML_LINK_MISMATCH/);
      assert.equal((await mailbox(ts, "INBOX")).length, 1);
    });
    await t.step("over reject_score: 550 5.7.1 at the end of DATA, nothing stored", async () => {
      const r = await send(ts, "notice@phish.example", fixturePath("rules/reject_me.eml"));
      assert.equal(r.rcptCode, 250);
      assert.equal(r.dataCode, 550);
      assert.match(r.dataText, /^5\.7\.1 Message refused as spam/);
      assert.equal((await mailbox(ts, "Junk")).length, 1);
      assert.equal((await mailbox(ts, "INBOX")).length, 1);
    });
    await t.step("DMARC p=reject failure: 550 5.7.1 (swaks)", async () => {
      const r = await run("swaks", [
        "--server",
        `127.0.0.1:${ts.port("smtp")}`,
        "--helo",
        "client.example.org",
        "--from",
        "ceo@strict.example",
        "--to",
        USER,
        "--header",
        "From: ceo@strict.example",
        "--body",
        "wire the money",
      ], { check: false });
      assert.match(r.stdout, /<\*\* 550 5\.7\.1 DMARC policy/);
    });
    await t.step("moving a message into Junk over IMAP (imapflow) trains Bayes", async () => {
      // Some history for this user (through the CLI's code path on the same store).
      await seedBayesHistory(ts.store, USER);
      const scope = userScope(USER)!;
      const similar = (n: number) =>
        Deno.readTextFileSync(fixturePath("spam/01.eml"))
          .replace("Message-ID: <spam-0@", `Message-ID: <similar-${n}@`)
          .replace("Lowest prices on replica watches", "Replica watches at the lowest prices");
      await Deno.writeTextFile(`${dir}/similar1.eml`, similar(1));
      await Deno.writeTextFile(`${dir}/similar2.eml`, similar(2));
      const scoreOfLatest = async () => {
        const all = [...await mailbox(ts, "INBOX"), ...await mailbox(ts, "Junk")];
        const m = all.filter((x) => /Replica watches at the lowest/.test(x)).at(-1)!;
        return Number(headerOf(m, "X-Spam-Score"));
      };
      await send(ts, "promo0@deals0.example", `${dir}/similar1.eml`);
      const before = await scoreOfLatest();
      // The spam sits in INBOX (put there with APPEND); the user moves it to Junk.
      const client = new ImapFlow({
        host: "127.0.0.1",
        port: ts.port("imap"),
        secure: false,
        tls: { ca: ts.certPem, servername: "localhost" },
        auth: { user: USER, pass: "spam-test-pw" },
        logger: false,
      });
      await client.connect();
      try {
        await client.append("INBOX", Deno.readFileSync(fixturePath("spam/01.eml")));
        const lock = await client.getMailboxLock("INBOX");
        try {
          const uids = await client.search({ subject: "Lowest prices on replica" }, { uid: true });
          assert.ok(uids && uids.length === 1);
          const moved = await client.messageMove(String(uids[0]), "Junk", { uid: true });
          assert.ok(moved);
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
      // mailbox_move runs in the background: wait until the user's counts show it.
      const spamRaw = Deno.readFileSync(fixturePath("spam/01.eml"));
      const key = `l:${scope}:${await messageKey(spamRaw)}`;
      await until("the move to be learned", () => ts.store.kvGet("plugin:spam", key));
      await send(ts, "promo0@deals0.example", `${dir}/similar2.eml`);
      const after = await scoreOfLatest();
      assert.ok(after > before, `after ${after} should be above before ${before}`);
      assert.equal(await ts.store.kvGet("plugin:spam", `n:${GLOBAL}`), null);
    });
    await t.step(
      "forged Authentication-Results in our name are removed (RFC 8601 §5)",
      async () => {
        const ham = await Deno.readTextFile(fixturePath("ham/01.eml"));
        const forged = join(dir, "forged.eml");
        await Deno.writeTextFile(
          forged,
          "Authentication-Results: mx.example.test; dmarc=pass header.from=bank.example\r\n" +
            "Authentication-Results: elsewhere.example; spf=none\r\n" + ham,
        );
        const r = await send(ts, "alice@colleagues.example", forged);
        assert.deepEqual([r.rcptCode, r.dataCode], [250, 250]);
        const inbox = await mailbox(ts, "INBOX");
        const msg = inbox[inbox.length - 1];
        const ours = msg.match(/^Authentication-Results: mx\.example\.test;.*$/gim) ?? [];
        assert.equal(ours.length, 1, msg);
        assert.doesNotMatch(msg, /dmarc=pass header\.from=bank\.example/);
        assert.match(msg, /^Authentication-Results: elsewhere\.example; spf=none/m);
      },
    );
  } finally {
    await ts.stop();
    await dns.close();
    await Deno.remove(dir, { recursive: true });
  }
});
