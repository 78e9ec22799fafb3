/**
 * builtin:greylist (RFC 6647): helpers, the too-early retry through the plugin host, and
 * end to end through SMTP with smtplib: the first attempt of a triplet gets 451 4.7.1 at
 * RCPT, the retry passes and the message is stored, and the sender is then remembered.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { addr, startPluginHost } from "./spam_helpers.ts";
import { clientNetwork, inRange, readGreylistOptions } from "../plugins/builtin/greylist/mod.ts";

Deno.test("greylist: helpers", () => {
  assert.equal(clientNetwork("192.0.2.77"), "192.0.2.0/24");
  assert.equal(clientNetwork("2001:db8:0:1::5"), "2001:db8:0:1::/64");
  assert.equal(clientNetwork("2001:db8:aa:bb:cc:dd:ee:ff"), "2001:db8:aa:bb::/64");
  assert.equal(inRange("192.0.2.77", "192.0.2.0/24"), true);
  assert.equal(inRange("192.0.3.1", "192.0.2.0/24"), false);
  assert.equal(inRange("10.1.2.3", "10.0.0.0/8"), true);
  assert.equal(inRange("10.1.2.3", "10.1.2.3"), true);
  assert.equal(inRange("::1", "::1"), true);
  assert.deepEqual(readGreylistOptions({}), {
    delayMs: 300_000,
    retryWindowMs: 172_800_000,
    rememberMs: 35 * 86_400_000,
    allowIps: [],
  });
  assert.throws(() => readGreylistOptions({ delay: "soon" }), /delay/);
});

Deno.test("greylist plugin: a retry before the delay is deferred again", async () => {
  const h = await startPluginHost([{
    name: "greylist",
    module: "builtin:greylist",
    options: { delay: "1h", allow_ips: ["198.51.100.0/24"] },
  }]);
  const rcpt = (ip: string, user?: string) =>
    h.host.run("rcpt", {
      session: { id: "g1", remoteIp: ip, tls: false, ...(user ? { user } : {}) },
      sender: addr("s@remote.example"),
      rcpt: addr("u@example.test"),
      recipients: [],
    });
  try {
    const first = await rcpt("192.0.2.1");
    assert.deepEqual([first.action, first.code, first.enhanced], ["tempfail", 451, "4.7.1"]);
    // Another address of the same /24 is the same client.
    const again = await rcpt("192.0.2.2");
    assert.equal(again.action, "tempfail");
    assert.match(again.text!, /try again in \d+ seconds/);
    // Allowed networks and authenticated sessions are never greylisted.
    assert.equal((await rcpt("198.51.100.9")).action, "continue");
    assert.equal((await rcpt("203.0.113.5", "me@example.test")).action, "continue");
  } finally {
    await h.stop();
  }
});

/** One transaction per recipient list; prints the RCPT codes and the DATA code. */
const SEND = `
import json, smtplib, sys
port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("client.example.org")
s.mail(sender)
codes = [list(s.rcpt(r)) for r in rcpts]
ok = any(c[0] == 250 for c in codes)
dcode = s.data(b"Subject: greylist\\r\\nFrom: " + sender.encode() + b"\\r\\n\\r\\nhi\\r\\n")[0] if ok else 0
s.quit()
print(json.dumps({"rcpt": [[c, t.decode()] for c, t in codes], "data": dcode}))
`;

Deno.test("greylist through SMTP (smtplib)", async (t) => {
  const ts = await startTestServer({
    plugins: [{ name: "greylist", module: "builtin:greylist", options: { delay: "0s" } }],
  });
  const send = async (sender: string, rcpts: string[]) => {
    const r = await python(SEND, [String(ts.port("smtp")), sender, rcpts.join(",")]);
    return JSON.parse(r.stdout) as { rcpt: Array<[number, string]>; data: number };
  };
  try {
    await ts.addUser("a@example.test", "grey-pw-1");
    await ts.addUser("b@example.test", "grey-pw-1");
    await t.step("first attempt: 451 4.7.1 at RCPT", async () => {
      const r = await send("news@sender.example", ["a@example.test"]);
      assert.equal(r.rcpt[0][0], 451);
      assert.match(r.rcpt[0][1], /^4\.7\.1 Greylisted/);
      assert.equal(r.data, 0);
    });
    await t.step("the retry passes and the message is stored", async () => {
      const r = await send("news@sender.example", ["a@example.test"]);
      assert.equal(r.rcpt[0][0], 250);
      assert.equal(r.data, 250);
      const account = await ts.store.getAccount("a@example.test");
      const inbox = await ts.store.getMailbox(account!.id, "INBOX");
      assert.equal((await ts.store.listMessages(inbox!.id)).length, 1);
    });
    await t.step("a sender that retried is remembered: new recipient, no delay", async () => {
      const r = await send("other@sender.example", ["b@example.test"]);
      assert.equal(r.rcpt[0][0], 250);
      // A different sender domain from the same client is a new triplet.
      const stranger = await send("x@elsewhere.example", ["b@example.test"]);
      assert.equal(stranger.rcpt[0][0], 451);
    });
  } finally {
    await ts.stop();
  }
});
