/**
 * The deliver and mailbox_move hooks, end to end with python3 smtplib and imaplib:
 * per-account transformation with unchanged copies sharing one blob in one commit, a
 * mailbox pick, a refusal, a dropped copy; APPEND into Sent transformed (and into Drafts
 * not); MOVE into and out of Junk reported to the plugin.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import type { Store } from "../storage/mod.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const dec = new TextDecoder();

const SEND = `
import json, smtplib, sys
port, rcpts, subject = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("client.example")
s.mail("sender@example.org")
for r in rcpts:
    s.rcpt(r)
code, text = s.data(("Subject: %s\\r\\nFrom: sender@example.org\\r\\n\\r\\nhello there\\r\\n" % subject).encode())
s.quit()
print(json.dumps([code, text.decode()]))
`;

const IMAP = `
import imaplib, json, sys
port, user, pw, op = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, pw)
out = {}
if op == "append":
    for box in ["Sent", "Drafts"]:
        msg = ("Subject: to %s\\r\\nFrom: %s\\r\\n\\r\\nsaved copy\\r\\n" % (box, user)).encode()
        out[box] = m.append(box, "(\\\\Seen)", None, msg)[0]
elif op == "move":
    src, dst, subject = sys.argv[5], sys.argv[6], sys.argv[7]
    m.select(src)
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"%s"' % subject)
    uids = data[0].split()
    out["found"] = len(uids)
    out["move"] = m.uid("MOVE", uids[0], dst)[0]
m.logout()
print(json.dumps(out, default=lambda b: b.decode()))
`;

/** Polls `fn` until it returns a truthy value (or fails after `ms`). */
async function waitFor<T>(fn: () => Promise<T | null | undefined>, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function messages(store: Store, email: string, mailbox = "INBOX") {
  const acc = await store.getAccount(email);
  const mb = await store.getMailbox(acc!.id, mailbox);
  const out = [];
  for (const m of await store.listMessages(mb!.id)) {
    out.push({ blobId: m.blobId, text: dec.decode(await store.readBlob(m.blobId)) });
  }
  return out;
}

Deno.test("plugins: deliver and mailbox_move hooks (smtplib, imaplib)", async (t) => {
  const ts = await startTestServer({
    plugins: [
      { name: "hello", module: fixture("hello.ts") },
      { name: "life", module: fixture("lifecycle.ts") },
    ],
  });
  try {
    for (const u of ["plain1", "plain2", "secret", "junkme", "refuse", "drop"]) {
      await ts.addUser(`${u}@example.test`, "pw-123456");
    }
    const smtp = ts.port("smtp");
    const send = async (rcpts: string[], subject: string) =>
      JSON.parse(
        (await python(SEND, [
          String(smtp),
          rcpts.map((r) => `${r}@example.test`).join(","),
          subject,
        ]))
          .stdout,
      ) as [number, string];
    const imap = (args: string[]) =>
      python(IMAP, [String(ts.port("imap")), "plain1@example.test", "pw-123456", ...args]);

    await t.step(
      "a transformed copy gets its own blob; the others share one; one commit",
      async () => {
        // The store commits every write issued in the same tick in one transaction: record
        // the tick of each deliver call (a counter a microtask bumps after each call).
        const store = ts.store as unknown as { deliver: (...a: unknown[]) => Promise<unknown> };
        const deliver = store.deliver.bind(store);
        let tick = 0;
        const ticks: number[] = [];
        store.deliver = (...a: unknown[]) => {
          ticks.push(tick);
          queueMicrotask(() => tick++);
          return deliver(...a);
        };
        let code: number;
        try {
          [code] = await send(["plain1", "secret", "plain2"], "three");
        } finally {
          delete (store as { deliver?: unknown }).deliver; // back to the class's method
        }
        assert.equal(code, 250);
        assert.equal(ticks.length, 2, "one write for the shared blob, one for the sealed copy");
        assert.equal(ticks[0], ticks[1], "issued in the same tick: one durable commit");
        const [p1] = await messages(ts.store, "plain1@example.test");
        const [p2] = await messages(ts.store, "plain2@example.test");
        const [sec] = await messages(ts.store, "secret@example.test");
        assert.equal(p1.blobId, p2.blobId, "unchanged copies share the blob");
        assert.notEqual(sec.blobId, p1.blobId);
        assert.match(p1.text, /^Return-Path: <sender@example\.org>\r\nReceived: /);
        assert.match(p1.text, /^X-Hello-Plugin: seen 3 rcpt/m, "the data hook ran first");
        assert.doesNotMatch(p1.text, /X-Sealed/);
        assert.match(sec.text, /^X-Sealed: for secret@example\.test\r\n/);
        assert.match(
          sec.text,
          /^X-Seen: source=smtp account=secret@example\.test rcpt=secret@example\.test mailbox=INBOX special=- score=1\r$/m,
        );
        assert.match(sec.text, /\r\n\r\nHELLO THERE\r\n$/);
      },
    );

    await t.step("a plugin's mailbox pick files that account's copy", async () => {
      assert.equal((await send(["junkme"], "junk pick"))[0], 250);
      assert.equal((await messages(ts.store, "junkme@example.test")).length, 0);
      const [j] = await messages(ts.store, "junkme@example.test", "Junk");
      assert.match(j.text, /^X-Seen: source=smtp .*mailbox=INBOX/m);
    });

    await t.step("a refusal refuses the whole message; nothing is stored", async () => {
      const n = (await messages(ts.store, "plain1@example.test")).length;
      const [code, text] = await send(["plain1", "refuse"], "refused");
      assert.equal(code, 550);
      assert.match(text, /^5\.7\.1 deliver says no/);
      assert.equal((await messages(ts.store, "plain1@example.test")).length, n);
    });

    await t.step("discard drops only that account's copy", async () => {
      const n = (await messages(ts.store, "plain1@example.test")).length;
      assert.equal((await send(["plain1", "drop"], "move me"))[0], 250);
      assert.equal((await messages(ts.store, "drop@example.test")).length, 0);
      assert.equal((await messages(ts.store, "plain1@example.test")).length, n + 1);
    });

    await t.step("APPEND into Sent is transformed; into Drafts it is not", async () => {
      const r = JSON.parse((await imap(["append"])).stdout);
      assert.deepEqual(r, { Sent: "OK", Drafts: "OK" });
      const [sent] = await messages(ts.store, "plain1@example.test", "Sent");
      assert.match(sent.text, /^X-Sealed: for plain1@example\.test\r\nSubject: to Sent\r\n/);
      const [draft] = await messages(ts.store, "plain1@example.test", "Drafts");
      assert.match(draft.text, /^Subject: to Drafts\r\n/);
    });

    await t.step("MOVE into Junk and back out is reported to the plugin", async () => {
      const kv = (k: string) => ts.store.kvGet("plugin:life", k);
      const into = JSON.parse((await imap(["move", "INBOX", "Junk", "move me"])).stdout);
      assert.deepEqual(into, { found: 1, move: "OK" });
      const junk = await waitFor(() => kv("move:junk:move me"), "the junk report");
      assert.match(junk, /^plain1@example\.test INBOX->Junk move uid=\d+ size=\d+$/);
      const back = JSON.parse((await imap(["move", "Junk", "INBOX", "move me"])).stdout);
      assert.deepEqual(back, { found: 1, move: "OK" });
      const ham = await waitFor(() => kv("move:ham:move me"), "the ham report");
      assert.match(ham, /^plain1@example\.test Junk->INBOX move uid=\d+/);
    });
  } finally {
    await ts.stop();
  }
});
