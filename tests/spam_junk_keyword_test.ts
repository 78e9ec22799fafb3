/**
 * Spam training from IMAP keywords, end to end: a message marked `$Junk` with python3
 * imaplib `UID STORE` makes a similar message score higher; a keyword already set (in
 * either spelling, `$Junk` / `Junk`) is not reported again; marking it `$NotJunk` with
 * imapflow `messageFlagsAdd` relearns it as ham and the score comes back down.
 *
 * The server runs builtin:spam and the lifecycle fixture plugin, which records every
 * mailbox_move call in its kv area so the test can see what was (and was not) reported.
 */
import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { mailboxTexts, seedBayesHistory, until } from "./spam_helpers.ts";
import { keywordKind } from "../protocols/imap/hooks.ts";
import { messageKey, userScope } from "../plugins/builtin/spam/model.ts";
import { TOKENIZER_VERSION } from "../plugins/builtin/spam/tokenize.ts";

const FIX = new URL("./fixtures/spam/", import.meta.url);
const fixturePath = (name: string) => new URL(name, FIX).pathname;
const PLUGIN_FIX = new URL("./fixtures/plugins/", import.meta.url);
const USER = "u@example.test";
const PASS = "junk-kw-pw";

/** Sends a file with smtplib; prints the DATA reply code. */
const SEND = `
import smtplib, sys
port, sender, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.example.org")
s.mail(sender)
s.rcpt(rcpt)
code, _ = s.data(open(path, "rb").read())
s.quit()
print(code)
`;

/**
 * imaplib session on INBOX. Each argument is an op: "append:PATH" appends a file and
 * prints its UID (RFC 4315 APPENDUID); "store:UIDS:ITEM:FLAGS" runs UID STORE (in UIDS,
 * "#1", "#2" stand for the UIDs of this session's appends) and prints the reply type.
 * Any NO/BAD exits non-zero.
 */
const IMAP = `
import imaplib, re, sys
port, user, pw, ops = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
c = imaplib.IMAP4("127.0.0.1", port, timeout=20)
c.login(user, pw)
typ, _ = c.select("INBOX")
assert typ == "OK"
appended = []
for op in ops:
    kind, rest = op.split(":", 1)
    if kind == "append":
        typ, data = c.append("INBOX", None, None, open(rest, "rb").read())
        assert typ == "OK", data
        appended.append(re.search(rb"APPENDUID \\d+ (\\d+)", data[0]).group(1).decode())
        print(appended[-1])
    else:
        uids, item, flags = rest.split(":", 2)
        uids = re.sub(r"#(\\d)", lambda m: appended[int(m.group(1)) - 1], uids)
        typ, data = c.uid("STORE", uids, item, flags)
        assert typ == "OK", data
        print(typ)
c.logout()
`;

async function send(ts: TestServer, file: string): Promise<number> {
  const r = await python(SEND, [String(ts.port("smtp")), "promo0@deals0.example", USER, file]);
  return Number(r.stdout.trim());
}

function imaplib(ts: TestServer, ops: string[]): Promise<string[]> {
  return python(IMAP, [String(ts.port("imap")), USER, PASS, ...ops])
    .then((r) => r.stdout.trim().split("\n"));
}

/** All of the user's messages as text, INBOX then Junk. */
async function allMessages(ts: TestServer): Promise<string[]> {
  return [
    ...await mailboxTexts(ts.store, USER, "INBOX"),
    ...await mailboxTexts(ts.store, USER, "Junk"),
  ];
}

Deno.test("spam: $Junk / $NotJunk keywords set over IMAP train Bayes", async (t) => {
  const dns = await startDnsServer({});
  const ts = await startTestServer({
    dns: { nameserver: dns.nameserver },
    plugins: [
      {
        name: "spam",
        module: "builtin:spam",
        options: { junk_score: 5, reject_score: 10, bayes_min_learned: 3 },
      },
      { name: "life", module: new URL("lifecycle.ts", PLUGIN_FIX).pathname },
    ],
  });
  const dir = await Deno.makeTempDir({ prefix: "denomail-junkkw-" });
  const lifeKv = (key: string) => ts.store.kvGet("plugin:life", key);
  const spamKv = (key: string) => ts.store.kvGet("plugin:spam", key);
  try {
    await ts.addUser(USER, PASS);
    const scope = userScope(USER)!;
    await seedBayesHistory(ts.store, USER);

    // Messages like spam/01.eml (same body words), each its own Message-ID.
    let similarN = 0;
    const scoreOfSimilar = async () => {
      const path = `${dir}/similar${++similarN}.eml`;
      await Deno.writeTextFile(
        path,
        Deno.readTextFileSync(fixturePath("spam/01.eml"))
          .replace("Message-ID: <spam-0@", `Message-ID: <similar-${similarN}@`)
          .replace("Lowest prices on replica watches", "Replica watches at the lowest prices"),
      );
      assert.equal(await send(ts, path), 250);
      const m = (await allMessages(ts)).filter((x) => x.includes(`<similar-${similarN}@`));
      assert.equal(m.length, 1);
      const score = /^X-Spam-Score: (.*)$/m.exec(m[0])?.[1];
      assert.ok(score, "the message has an X-Spam-Score");
      return Number(score);
    };

    const spamA = Deno.readFileSync(fixturePath("spam/01.eml"));
    const keyA = `l:${scope}:${await messageKey(spamA)}`;
    const keyC = `l:${scope}:${await messageKey(Deno.readFileSync(fixturePath("spam/06.eml")))}`;
    let uidA = 0;
    let base = 0;
    let marked = 0;

    await t.step("UID STORE +FLAGS ($Junk) (imaplib) learns spam", async () => {
      base = await scoreOfSimilar();
      const [uid, ok] = await imaplib(ts, [
        `append:${fixturePath("spam/01.eml")}`,
        "store:#1:+FLAGS:($Junk)",
      ]);
      assert.equal(ok, "OK");
      uidA = Number(uid);
      // Reported in the background: wait for the plugins to have seen it.
      const seen = await until(
        "the mark to be reported",
        () => lifeKv("move:junk:Lowest prices on replica watches"),
      );
      assert.match(seen, new RegExp(`^${USER} INBOX->INBOX store uid=${uidA} size=\\d+$`));
      assert.equal(
        await until("the mark to be learned", () => spamKv(keyA)),
        `s${TOKENIZER_VERSION}`,
      );
      marked = await scoreOfSimilar();
      assert.ok(marked > base, `after $Junk ${marked} should be above before ${base}`);
    });

    await t.step("a keyword already set (either spelling) is not reported again", async () => {
      await ts.store.kvDelete("plugin:life", "move:junk:Lowest prices on replica watches");
      // One STORE over A (already $Junk) and a new message C: Thunderbird's "Junk" is new
      // on both, but only C is newly marked junk. The UIDs are reported in order, so once
      // C's report is in, A's would have been too.
      const [uidC, ok] = await imaplib(ts, [
        `append:${fixturePath("spam/06.eml")}`,
        `store:${uidA},#1:+FLAGS:(Junk)`,
      ]);
      assert.equal(ok, "OK");
      assert.ok(Number(uidC) > uidA);
      const seen = await until("C's mark", () => lifeKv("move:junk:Lose 30 pounds in 30 days"));
      assert.match(seen, new RegExp(`^${USER} INBOX->INBOX store uid=${uidC} `));
      assert.equal(await until("C to be learned", () => spamKv(keyC)), `s${TOKENIZER_VERSION}`);
      assert.equal(await lifeKv("move:junk:Lowest prices on replica watches"), null);
      // Setting the same keyword again changes nothing and reports nothing either.
      assert.deepEqual(await imaplib(ts, [`store:${uidA}:+FLAGS:($Junk Junk)`]), ["OK"]);
    });

    await t.step("$NotJunk (imapflow messageFlagsAdd) relearns it as ham", async () => {
      const client = new ImapFlow({
        host: "127.0.0.1",
        port: ts.port("imap"),
        secure: false,
        tls: { ca: ts.certPem, servername: "localhost" },
        auth: { user: USER, pass: PASS },
        logger: false,
      });
      await client.connect();
      try {
        const lock = await client.getMailboxLock("INBOX");
        try {
          // What a mail program sends when the user says "not junk".
          assert.ok(
            await client.messageFlagsRemove(String(uidA), ["$Junk", "Junk"], { uid: true }),
          );
          assert.ok(await client.messageFlagsAdd(String(uidA), ["$NotJunk"], { uid: true }));
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
      const seen = await until(
        "the ham mark to be reported",
        () => lifeKv("move:ham:Lowest prices on replica watches"),
      );
      assert.match(seen, new RegExp(`^${USER} INBOX->INBOX store uid=${uidA} `));
      assert.equal(
        await until("A relearned as ham", async () => {
          const v = await spamKv(keyA);
          return v === `h${TOKENIZER_VERSION}` ? v : null;
        }),
        `h${TOKENIZER_VERSION}`,
      );
      // Removing $Junk reported nothing: the only junk report for A was the first one.
      assert.equal(await lifeKv("move:junk:Lowest prices on replica watches"), null);
      const after = await scoreOfSimilar();
      assert.ok(after < marked, `after $NotJunk ${after} should be below ${marked}`);
    });
  } finally {
    await ts.stop();
    await dns.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keywordKind: only a newly set junk / not-junk keyword counts", () => {
  assert.equal(keywordKind([], ["\\Seen", "$Junk"]), "junk");
  assert.equal(keywordKind(["\\Seen"], ["\\Seen", "junk"]), "junk"); // case-insensitive
  assert.equal(keywordKind([], ["$NotJunk"]), "ham");
  assert.equal(keywordKind(["$Junk"], ["$Junk", "NonJunk"]), "ham"); // a correction
  assert.equal(keywordKind(["$Junk"], ["$Junk", "\\Seen"]), null); // already there
  assert.equal(keywordKind(["Junk"], ["Junk", "$junk"]), null); // other spelling already there
  assert.equal(keywordKind([], ["$Junk", "$NotJunk"]), null); // contradictory
  assert.equal(keywordKind(["$Junk"], []), null); // removal teaches nothing
});
