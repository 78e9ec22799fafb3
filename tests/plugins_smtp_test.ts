/**
 * Plugins through SMTP, end to end with python3 smtplib: a rcpt-hook reject reaches the
 * client as the plugin's 550, a data-hook header is in the stored message, and a plugin
 * that hangs gives 451 4.3.0 within timeout + 1 s while other sessions carry on.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const TIMEOUT = 500;

/** Sends one message; prints a JSON object of every reply code and text. */
const SEND = `
import json, smtplib, sys, time
port, rcpts = int(sys.argv[1]), sys.argv[2].split(",")
out = {"rcpt": []}
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
out["ehlo"] = s.ehlo()[0]
out["mail"] = s.mail("sender@example.org")[0]
ok = 0
for r in rcpts:
    t0 = time.monotonic()
    code, text = s.rcpt(r)
    out["rcpt"].append([r, code, text.decode(), round((time.monotonic() - t0) * 1000)])
    ok += code == 250
if ok:
    code, text = s.data(b"Subject: plugin test\\r\\nFrom: sender@example.org\\r\\n\\r\\nhello\\r\\n")
    out["data"] = [code, text.decode()]
s.quit()
print(json.dumps(out))
`;

interface SendResult {
  ehlo: number;
  mail: number;
  rcpt: Array<[string, number, string, number]>;
  data?: [number, string];
}

async function send(port: number, rcpts: string[]): Promise<SendResult> {
  const r = await python(SEND, [String(port), rcpts.join(",")]);
  return JSON.parse(r.stdout);
}

Deno.test("plugins through SMTP (smtplib)", async (t) => {
  const ts = await startTestServer({
    plugins: [
      { name: "hello", module: fixture("hello.ts"), timeout_ms: 2000 },
      { name: "hostile", module: fixture("hostile.ts"), timeout_ms: TIMEOUT, memory_mb: 64 },
    ],
  });
  try {
    await ts.addUser("rcpt@example.test", "pw-123456");
    await ts.addUser("hang@example.test", "pw-123456");
    await ts.addUser("loop@example.test", "pw-123456");
    await ts.addUser("someone@blocked.test", "pw-123456");
    const port = ts.port("smtp");

    await t.step("the host lists both plugins with their hooks", () => {
      assert.deepEqual(ts.server.deps.plugins?.list().map((p) => [p.name, p.hooks]), [
        ["hello", ["rcpt", "data"]],
        ["hostile", ["rcpt"]],
      ]);
    });

    await t.step("a rcpt-hook reject reaches the client as its 550", async () => {
      const r = await send(port, ["someone@blocked.test", "rcpt@example.test"]);
      assert.equal(r.rcpt[0][1], 550);
      assert.match(r.rcpt[0][2], /^5\.7\.1 blocked\.test is not welcome/);
      assert.equal(r.rcpt[1][1], 250);
      assert.equal(r.data?.[0], 250);
    });

    await t.step("a data-hook header is in the stored message", async () => {
      const account = await ts.store.getAccount("rcpt@example.test");
      const inbox = await ts.store.getMailbox(account!.id, "INBOX");
      const msgs = await ts.store.listMessages(inbox!.id);
      assert.equal(msgs.length, 1);
      const text = new TextDecoder().decode(await ts.store.readBlob(msgs[0].blobId));
      assert.match(text, /^X-Hello-Plugin: seen 1 rcpt, subject=plugin test\r$/m);
      assert.match(text, /\r\n\r\nhello\r\n$/);
    });

    await t.step("a hanging plugin: 451 4.3.0 within timeout + 1 s; others carry on", async () => {
      const [hung, other] = await Promise.all([
        send(port, ["hang@example.test"]),
        send(port, ["rcpt@example.test"]),
      ]);
      assert.equal(hung.rcpt[0][1], 451);
      assert.match(hung.rcpt[0][2], /^4\.3\.0 /);
      assert.ok(hung.rcpt[0][3] < TIMEOUT + 1000, `took ${hung.rcpt[0][3]} ms`);
      // The other session's calls to the same runner are answered long before the timeout.
      assert.equal(other.rcpt[0][1], 250);
      assert.equal(other.data?.[0], 250);
      assert.equal(await ts.server.deps.plugins!.ready("hostile"), true);
    });

    await t.step("a busy-looping plugin is killed and the next message goes through", async () => {
      const looped = await send(port, ["loop@example.test"]);
      assert.equal(looped.rcpt[0][1], 451);
      assert.ok(looped.rcpt[0][3] < TIMEOUT + 1000, `took ${looped.rcpt[0][3]} ms`);
      assert.equal(await ts.server.deps.plugins!.ready("hostile"), true);
      const next = await send(port, ["rcpt@example.test"]);
      assert.equal(next.rcpt[0][1], 250);
      assert.equal(next.data?.[0], 250);
    });
  } finally {
    await ts.stop();
  }
});
