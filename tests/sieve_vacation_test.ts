/**
 * Sieve vacation end to end between two instances: carol@b.test (instance B) writes twice
 * to bob@a.test (instance A, builtin:sieve, bob's active script answers with vacation);
 * A's queue sends the reply to B through MX lookup on a loopback DNS server. Carol gets
 * exactly one reply per period, from the null sender, marked Auto-Submitted (RFC 3834).
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { inbox, startSender, waitFor } from "./lib/outbound_fixture.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { activateScript, putScript } from "../plugins/builtin/sieve/scripts.ts";

const SEND = `
import smtplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
for i in range(n):
    msg = "From: carol@b.test\\r\\nTo: bob@a.test\\r\\nSubject: question %d\\r\\nMessage-ID: <q%d@b.test>\\r\\n\\r\\nhi\\r\\n" % (i, i)
    s.sendmail("carol@b.test", ["bob@a.test"], msg.encode())
s.quit()
`;

Deno.test("sieve vacation: one reply per sender per period, through the queue, from <>", async () => {
  const dns = await startDnsServer({
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
  });
  const b = await startTestServer({
    hostname: "mx.b.test",
    listeners: { smtp: "127.0.0.1:0" }, // port 0: a port picked earlier may be taken by then
  });
  const bPort = b.port("smtp");
  const a = await startSender(dns, bPort, {}, {
    plugins: [{ name: "sieve", module: "builtin:sieve" }],
  });
  try {
    await b.addUser("carol@b.test", "carol-pw-123");
    await a.addUser("bob@a.test", "bob-pw-12345");
    const kv = storeKv(a.store, "sieve");
    await putScript(
      kv,
      "bob@a.test",
      "away",
      'require "vacation";\nvacation :days 7 :subject "Out of office" "Back on Monday.";\n',
    );
    await activateScript(kv, "bob@a.test", "away");

    await python(SEND, [String(a.port("smtp")), "3"]);
    const [reply] = await waitFor(async () => {
      const got = await inbox(b.store, "carol@b.test");
      return got.length > 0 ? got : null;
    }, "the vacation reply");
    // Every reply owed was enqueued at DATA; once A's queue is empty, B has them all.
    await waitFor(async () => (await a.store.listQueue()).length === 0, "A's queue to drain");
    assert.equal((await inbox(b.store, "carol@b.test")).length, 1, "once per period");
    assert.match(reply, /^Return-Path: <>\r\n/m);
    assert.match(reply, /^Subject: Out of office\r\n/m);
    assert.match(reply, /^Auto-Submitted: auto-replied/m);
    assert.match(reply, /^In-Reply-To: <q0@b\.test>\r\n/m);
    assert.match(reply, /\r\n\r\nBack on Monday\.\r\n$/);
    assert.equal((await inbox(a.store, "bob@a.test")).length, 3, "bob keeps every message");
  } finally {
    await a.stop();
    await b.stop();
    await dns.close();
  }
});

const BOUNCE = `
import smtplib, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
forged = rcpt.replace("=carol@", "=mallory@")
s.ehlo()
code, _ = s.docmd("MAIL FROM:<>")
assert code == 250, code
code, msg = s.docmd("RCPT TO:<%s>" % forged)
assert code == 550, (code, msg)
s.rset()
s.sendmail("", [rcpt], b"From: MAILER-DAEMON@b.test\\r\\nTo: carol@b.test\\r\\nSubject: bounce via SRS\\r\\n\\r\\nundeliverable\\r\\n")
s.quit()
`;

Deno.test("sieve redirect: SRS0 envelope sender; a bounce to it reaches the original sender", async () => {
  const dns = await startDnsServer({
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
  });
  const b = await startTestServer({
    hostname: "mx.b.test",
    listeners: { smtp: "127.0.0.1:0" }, // port 0: a port picked earlier may be taken by then
  });
  const bPort = b.port("smtp");
  const a = await startSender(dns, bPort, {}, {
    plugins: [{ name: "sieve", module: "builtin:sieve" }],
  });
  try {
    await b.addUser("carol@b.test", "carol-pw-123");
    await b.addUser("dave@b.test", "dave-pw-1234");
    await a.addUser("bob@a.test", "bob-pw-12345");
    const kv = storeKv(a.store, "sieve");
    await putScript(kv, "bob@a.test", "fwd", 'redirect "dave@b.test";\n');
    await activateScript(kv, "bob@a.test", "fwd");
    await python(SEND, [String(a.port("smtp")), "1"]);
    const [forwarded] = await waitFor(async () => {
      const got = await inbox(b.store, "dave@b.test");
      return got.length > 0 ? got : null;
    }, "the redirected message");
    const srs = /^Return-Path: <(SRS0=[^=]{4}=[A-Z2-7]{2}=b\.test=carol@a\.test)>\r\n/m.exec(
      forwarded,
    );
    assert.ok(srs, forwarded.slice(0, 300));
    assert.match(forwarded, /^Subject: question 0\r\n/m, "the message as received");
    assert.equal((await inbox(a.store, "bob@a.test")).length, 0, "redirect cancels the keep");
    // B bounces to the SRS address: A routes it back to carol; a forged one is refused.
    await python(BOUNCE, [String(a.port("smtp")), srs[1]]);
    const back = await waitFor(async () => {
      const got = (await inbox(b.store, "carol@b.test")).filter((m) =>
        m.includes("bounce via SRS")
      );
      return got.length > 0 ? got : null;
    }, "the bounce back at carol");
    assert.match(back[0], /^Return-Path: <>\r\n/m);
  } finally {
    await a.stop();
    await b.stop();
    await dns.close();
  }
});
