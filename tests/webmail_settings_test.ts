/**
 * The webmail's settings routes over HTTP (protocols/http/web/account_settings.ts): the
 * user's password (checked through the login throttle, the admin's password rules) and the
 * OpenPGP key of builtin:encrypt (the same checks and storage as `user key set`).
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { kvKeyFor } from "../plugins/builtin/encrypt/keys.ts";
import { kvNamespace } from "../plugins/engine/services.ts";

async function token(base: string, email: string, password: string): Promise<string | null> {
  const res = await fetch(`${base}/webmail/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  return res.ok ? body.token : null;
}

function call(base: string, tok: string | null, method: string, path: string, body?: unknown) {
  return fetch(`${base}${path}`, {
    method,
    headers: {
      ...(tok ? { authorization: `Bearer ${tok}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

async function withServer(
  overrides: Record<string, unknown>,
  fn: (ts: TestServer, base: string) => Promise<void>,
) {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" }, ...overrides });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    await fn(ts, `http://127.0.0.1:${ts.port("http")}`);
  } finally {
    await ts.stop();
  }
}

Deno.test("webmail settings: change password", async () => {
  await withServer({}, async (_ts, base) => {
    const tok = await token(base, "alice@example.test", "alice-password");
    assert.ok(tok);
    const pw = (body: unknown, t: string | null = tok) =>
      call(base, t, "POST", "/webmail/password", body);
    assert.equal(await status(await pw({ current: "x", new: "y" }, null)), 401);
    const form = await fetch(`${base}/webmail/password`, {
      method: "POST",
      headers: { authorization: `Bearer ${tok}`, "content-type": "text/plain" },
      body: "current=alice-password&new=hijacked-password",
    });
    assert.equal(await status(form), 415, "JSON only");
    const short = await pw({ current: "alice-password", new: "short" });
    assert.equal(short.status, 400);
    assert.match((await short.json()).error, /at least 8/);
    const wrong = await pw({ current: "not-it", new: "a-new-long-password" });
    assert.equal(wrong.status, 403);
    assert.match((await wrong.json()).error, /not right/);
    assert.equal(
      await status(await pw({ current: "alice-password", new: "a-new-long-password" })),
      204,
    );
    assert.equal(await token(base, "alice@example.test", "alice-password"), null);
    assert.ok(await token(base, "alice@example.test", "a-new-long-password"));
    // Bob's token changes Bob's password only.
    const bob = await token(base, "bob@example.test", "bob-password");
    assert.equal(
      await status(await pw({ current: "a-new-long-password", new: "bobs-new-password" }, bob)),
      403,
    );
  });
});

Deno.test("webmail settings: wrong current passwords count in the login throttle", async () => {
  await withServer(
    { auth: { throttle_exempt: [], max_failures_per_address: 2 } },
    async (_ts, base) => {
      const tok = await token(base, "alice@example.test", "alice-password");
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call(base, tok, "POST", "/webmail/password", {
          current: `guess ${i}`,
          new: "a-new-long-password",
        });
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
        await res.body?.cancel();
      }
      assert.equal(statuses[0], 403);
      assert.equal(statuses.at(-1), 429);
    },
  );
});

Deno.test("webmail settings: encryption key set, shown, removed", async () => {
  await withServer({}, async (ts, base) => {
    const tok = await token(base, "alice@example.test", "alice-password");
    const key = (method: string, body?: unknown) => call(base, tok, method, "/webmail/key", body);
    assert.equal(await status(await call(base, null, "GET", "/webmail/key")), 401);
    assert.equal(await status(await key("GET")), 404);
    const bad = await key("POST", { armored: "not a key" });
    assert.equal(bad.status, 400);
    assert.equal(typeof (await bad.json()).error, "string");
    const { publicKey, privateKey } = await openpgp.generateKey({
      type: "ecc",
      curve: "curve25519Legacy",
      userIDs: [{ email: "alice@example.test" }],
      format: "armored",
    });
    const priv = await key("POST", { armored: privateKey });
    assert.equal(priv.status, 400);
    assert.match((await priv.json()).error, /private key/);
    const set = await key("POST", { armored: publicKey });
    assert.equal(set.status, 200);
    const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint();
    assert.equal((await set.json()).fingerprint.toLowerCase(), fingerprint.toLowerCase());
    const stored = await ts.store.kvGet(kvNamespace("encrypt"), kvKeyFor("alice@example.test"));
    assert.ok(stored?.includes("BEGIN PGP PUBLIC KEY BLOCK"), "where `user key set` puts it");
    const shown = await key("GET");
    assert.equal((await shown.json()).fingerprint.toLowerCase(), fingerprint.toLowerCase());
    const bob = await token(base, "bob@example.test", "bob-password");
    assert.equal(await status(await call(base, bob, "GET", "/webmail/key")), 404, "per user");
    assert.equal(await status(await key("DELETE")), 204);
    assert.equal(await status(await key("GET")), 404);
  });
});

/** Sends a file with smtplib and reads alice's INBOX with imaplib; prints JSON. */
const SEND_AND_READ = `
import imaplib, json, smtplib, sys
smtp, imap, sender, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", smtp, timeout=30)
s.ehlo("client.example.org")
s.mail(sender)
rcode, _ = s.rcpt("alice@example.test")
dcode, dtext = s.data(open(path, "rb").read()) if rcode == 250 else (0, b"")
s.quit()
m = imaplib.IMAP4("127.0.0.1", imap)
m.login("alice@example.test", "alice-password")
_, count = m.select("INBOX", readonly=True)
_, data = m.fetch("1:*", "(BODY.PEEK[HEADER])") if int(count[0]) > 0 else (None, [])
headers = [d[1].decode() for d in data if isinstance(d, tuple)]
m.logout()
print(json.dumps({"rcpt": rcode, "data": dcode, "text": dtext.decode(), "inbox": headers}))
`;

Deno.test("webmail settings: spam allow and block lists decide SMTP verdicts", async () => {
  const spam = {
    name: "spam",
    module: "builtin:spam",
    options: { junk_score: 5, reject_score: 10, bayes: false, linear: false },
  };
  await withServer({ plugins: [spam] }, async (ts, base) => {
    const tok = await token(base, "alice@example.test", "alice-password");
    const lists = (method: string, body?: unknown, t: string | null = tok) =>
      call(base, t, method, "/webmail/spam-lists", body);
    const sendFile = async (sender: string, path: string) => {
      const args = [String(ts.port("smtp")), String(ts.port("imap")), sender, path];
      return JSON.parse((await python(SEND_AND_READ, args)).stdout) as {
        rcpt: number;
        data: number;
        text: string;
        inbox: string[];
      };
    };
    assert.equal(await status(await lists("GET", undefined, null)), 401);
    assert.equal(await status(await lists("PUT", { allow: [], block: [] }, null)), 401);
    assert.deepEqual(await (await lists("GET")).json(), { allow: [], block: [] });
    const bad = await lists("PUT", { allow: ["not an address"], block: [] });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /^allow: "not an address" is not/);
    const many = await lists("PUT", { block: Array.from({ length: 501 }, (_, i) => `d${i}.test`) });
    assert.equal(many.status, 400);
    assert.equal(await status(await lists("PUT", { block: 5 })), 400);
    const form = await fetch(`${base}/webmail/spam-lists`, {
      method: "PUT",
      headers: { authorization: `Bearer ${tok}`, "content-type": "text/plain" },
      body: '{"block":["@x.test"]}',
    });
    assert.equal(await status(form), 415, "JSON only");

    // A block list naming the sender's domain: 550 at the end of DATA.
    const put = await lists("PUT", { allow: [], block: [" @Spammer.Example "] });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { allow: [], block: ["@spammer.example"] });
    const dir = await Deno.makeTempDir({ prefix: "denomail-spamlists-" });
    try {
      const plain = `${dir}/plain.eml`;
      await Deno.writeTextFile(
        plain,
        "From: news@mail.spammer.example\r\nTo: alice@example.test\r\n" +
          "Subject: hello\r\nDate: Tue, 03 Jun 2025 10:00:00 +0000\r\n" +
          "Message-ID: <b1@mail.spammer.example>\r\n\r\nJust a note.\r\n",
      );
      const blocked = await sendFile("news@mail.spammer.example", plain);
      assert.deepEqual([blocked.rcpt, blocked.data], [250, 550]);
      assert.match(blocked.text, /^5\.7\.1 Message refused as spam/);
      assert.equal(blocked.inbox.length, 0);

      // An allow list naming the sender lets through what would be refused as spam.
      const reject = new URL("./fixtures/spam/rules/reject_me.eml", import.meta.url).pathname;
      const before = await sendFile("notice@phish.example", reject);
      assert.equal(before.data, 550, "the fixture is refused without the allow list");
      const allow = await lists("PUT", { allow: ["notice@phish.example"], block: [] });
      assert.equal(allow.status, 200);
      assert.deepEqual(await (await lists("GET")).json(), {
        allow: ["notice@phish.example"],
        block: [],
      });
      const allowed = await sendFile("notice@phish.example", reject);
      assert.deepEqual([allowed.rcpt, allowed.data], [250, 250]);
      assert.equal(allowed.inbox.length, 1);
      assert.match(allowed.inbox[0], /^X-Spam-Status: No, .*USER_ALLOWLIST/m);
      // Another user's lists are their own.
      const bob = await token(base, "bob@example.test", "bob-password");
      assert.deepEqual(await (await lists("GET", undefined, bob)).json(), {
        allow: [],
        block: [],
      });
      const entries = await ts.store.listAudit({ limit: 10 });
      assert.ok(
        entries.some((e) => e.action === "user.spam_lists" && e.actor === "alice@example.test"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
