/**
 * Plugins asked early (plugins/sdk.ts `Early`), end to end with python3 smtplib over TCP:
 * an envelope-only plugin that declared `early` is asked when DATA is accepted (before the
 * body is sent), its verdict is the reply at the end of data in chain order, a reject of a
 * plugin ahead of it wins, it is asked again whenever something it reads changed (score,
 * size, a wrong SIZE=), and an aborted DATA leaves nothing for the next transaction.
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./harness.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const LIMIT = 4096;

/**
 * One connection; per transaction (a JSON line on stdin: rcpt, subject, declared SIZE
 * ("exact" or a number), pad bytes of body): MAIL, RCPT, DATA, then waits for a "go" line
 * before it sends the message. Prints each reply it gets as a JSON line.
 */
const CLIENT = `
import json, smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo()
def say(**k):
    print(json.dumps(k), flush=True)
for line in sys.stdin:
    t = json.loads(line)
    if t.get("quit"):
        break
    msg = ("Subject: %s\\r\\nFrom: a@example.org\\r\\n\\r\\nhello\\r\\n" % t["subject"]
           + "x" * t["pad"] + ("\\r\\n" if t["pad"] else "")).encode()
    size = len(msg) if t["size"] == "exact" else int(t["size"])
    say(mail=s.mail("sender@example.org", ["SIZE=%d" % size])[0], len=len(msg))
    say(rcpt=s.rcpt(t["rcpt"])[0])
    say(data=s.docmd("DATA")[0])
    sys.stdin.readline()
    s.send(msg + b".\\r\\n")
    code, text = s.getreply()
    say(final=code, text=text.decode())
s.quit()
`;

/** The python client, driven a line at a time. */
class Client {
  #proc: Deno.ChildProcess;
  #in: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #buf = "";
  #reader: ReadableStreamDefaultReader<string>;

  constructor(port: number) {
    this.#proc = new Deno.Command("python3", {
      args: ["-c", CLIENT, String(port)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#in = this.#proc.stdin.getWriter();
    this.#reader = this.#proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#lines = this.#read();
  }

  async *#read(): AsyncGenerator<string> {
    while (true) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        yield this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) return;
      this.#buf += value;
    }
  }

  async line(): Promise<Record<string, unknown>> {
    const r = await this.#lines.next();
    if (r.done) throw new Error("client exited");
    return JSON.parse(r.value);
  }

  async write(v: unknown): Promise<void> {
    await this.#in.write(new TextEncoder().encode(JSON.stringify(v) + "\n"));
  }

  /** MAIL, RCPT, DATA: returns the message length once the client holds at 354. */
  async begin(rcpt: string, subject: string, size: string | number = "exact", pad = 0) {
    await this.write({ rcpt, subject, size: String(size), pad });
    const mail = await this.line();
    assert.equal(mail.mail, 250);
    assert.equal((await this.line()).rcpt, 250);
    assert.equal((await this.line()).data, 354);
    return mail.len as number;
  }

  /** Sends the message; returns the reply to its end. */
  async finish(): Promise<{ final: number; text: string }> {
    await this.write("go");
    return await this.line() as { final: number; text: string };
  }

  async close(): Promise<void> {
    await this.write({ quit: true }).catch(() => {});
    await this.#in.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    await this.#proc.status;
  }
}

/** Polls until `f` is true (or fails at the deadline). */
async function until(what: string, f: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How many times the probe was asked for `local`'s message. */
async function asked(ts: TestServer, local: string): Promise<number> {
  return Number(await ts.store.kvGet("plugin:probe", `asked:${local}`) ?? 0);
}

/** The X-Early field of the newest message in `email`'s INBOX. */
async function early(ts: TestServer, email: string): Promise<string | undefined> {
  const account = await ts.store.getAccount(email);
  const inbox = await ts.store.getMailbox(account!.id, "INBOX");
  const msgs = await ts.store.listMessages(inbox!.id);
  if (msgs.length === 0) return undefined;
  const text = new TextDecoder().decode(await ts.store.readBlob(msgs.at(-1)!.blobId));
  return text.match(/^X-Early: (.*)\r$/m)?.[1];
}

Deno.test("plugins asked early (smtplib)", async (t) => {
  const ts = await startTestServer({
    limits: { max_message_bytes: LIMIT },
    plugins: [
      { name: "first", module: fixture("early_ahead.ts"), timeout_ms: 5000 },
      { name: "probe", module: fixture("early_probe.ts"), timeout_ms: 5000 },
    ],
  });
  const users = ["early-reject1", "early-reject2", "early-reject3", "plain1", "plain2"];
  for (const u of users) await ts.addUser(`${u}@example.test`, "pw-123456");
  for (const u of ["scored", "tagged", "wrongsize"]) {
    await ts.addUser(`${u}@example.test`, "pw-123456");
  }
  const c = new Client(ts.port("smtp"));
  try {
    await t.step(
      "asked at DATA, before the body; its reject is the end-of-data reply",
      async () => {
        await c.begin("early-reject1@example.test", "hi");
        // The body has not been sent: only an early call can have reached the plugin.
        await until(
          "the probe is asked at DATA",
          async () => await asked(ts, "early-reject1") === 1,
        );
        const r = await c.finish();
        assert.equal(r.final, 550);
        assert.match(r.text, /^5\.7\.1 early says no/);
        assert.equal(await asked(ts, "early-reject1"), 1, "not asked again");
      },
    );

    await t.step("a reject of a plugin ahead of it wins over its early reject", async () => {
      await c.begin("early-reject2@example.test", "first-rejects");
      await until("the probe is asked at DATA", async () => await asked(ts, "early-reject2") === 1);
      const r = await c.finish();
      assert.equal(r.final, 554);
      assert.match(r.text, /^5\.7\.1 first says no/);
    });

    await t.step("nothing ahead changed: the early answer is used (asked once)", async () => {
      const len = await c.begin("plain1@example.test", "hi");
      assert.equal((await c.finish()).final, 250);
      // Early: the plain "continue" of the plugin ahead is not in its results.
      assert.equal(await early(ts, "plain1@example.test"), `asks=1 size=${len} score=0 results=`);
    });

    await t.step("a plugin ahead added to the score: asked again with the real one", async () => {
      const len = await c.begin("scored@example.test", "first-scores");
      assert.equal((await c.finish()).final, 250);
      assert.equal(
        await early(ts, "scored@example.test"),
        `asks=2 size=${len} score=5 results=first`,
      );
    });

    await t.step("a plugin ahead added a header (the size changed): asked again", async () => {
      const len = await c.begin("tagged@example.test", "first-tags");
      assert.equal((await c.finish()).final, 250);
      const grown = len + "X-First: 1\r\n".length;
      assert.equal(
        await early(ts, "tagged@example.test"),
        `asks=2 size=${grown} score=0 results=first`,
      );
    });

    await t.step("a wrong SIZE= at MAIL FROM: asked again with the real size", async () => {
      const len = await c.begin("wrongsize@example.test", "hi", 10);
      assert.equal((await c.finish()).final, 250);
      assert.equal(
        await early(ts, "wrongsize@example.test"),
        `asks=2 size=${len} score=0 results=first`,
      );
    });

    await t.step("an aborted DATA leaves nothing for the next transaction", async () => {
      // Declared small, sent too big: the server reads it all and answers 552.
      await c.begin("early-reject3@example.test", "hi", 100, LIMIT + 100);
      await until("the probe is asked at DATA", async () => await asked(ts, "early-reject3") === 1);
      assert.equal((await c.finish()).final, 552);
      // Same connection: the early reject of the aborted message must not answer this one.
      const len = await c.begin("plain2@example.test", "hi");
      assert.equal((await c.finish()).final, 250);
      assert.equal(await early(ts, "plain2@example.test"), `asks=1 size=${len} score=0 results=`);
      assert.equal(await asked(ts, "early-reject3"), 1);
    });
  } finally {
    await c.close();
    await ts.stop();
  }
});
