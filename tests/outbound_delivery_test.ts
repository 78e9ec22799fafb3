/**
 * Outbound delivery end to end: two denomail instances on loopback (a.test and b.test)
 * and a DNS server on loopback serving their MX records and A's DKIM key. Mail is
 * submitted with python smtplib to A and must reach B (DKIM-signed), bounce, or be retried.
 */
import assert from "node:assert/strict";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import {
  dnsSettings,
  freePort,
  inbox,
  publishDkimKey,
  startSender,
  SUBMIT_PY,
  verifyDkim,
  waitFor as waitForWithin,
} from "./lib/outbound_fixture.ts";
import { startServer } from "../app/server.ts";

/** Every wait here is for loopback work that takes well under 15 s. */
const waitFor = <T>(fn: () => Promise<T | null | undefined | false>, what: string) =>
  waitForWithin(fn, what, 15000);

Deno.test("outbound: delivery between two denomail instances", async (t) => {
  const dns: TestDnsServer = await startDnsServer({
    "a.test": { MX: [{ preference: 10, exchange: "mx.a.test" }] },
    "mx.a.test": { A: ["127.0.0.1"] },
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
    "null.test": { MX: [{ preference: 0, exchange: "" }] },
  });
  const bPort = freePort();
  let b: TestServer | null = null;
  let a: TestServer | null = null;
  let bRestarted: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    b = await startTestServer({
      hostname: "mx.b.test",
      dns: dnsSettings(dns),
      listeners: { smtp: `127.0.0.1:${bPort}` },
    });
    a = await startSender(dns, bPort);
    await b.addUser("bob@b.test", "secret-pw");
    await publishDkimKey(dns, a.config.dataDir, "a.test", "s1");
    const submit = (to: string, subject: string) =>
      python(SUBMIT_PY, [
        String(a!.port("submission")),
        "alice@a.test",
        to,
        subject,
        "Hello from a.test.\r\n.leading dot line\r\n",
      ]);

    await t.step("a user of a.test reaches b.test, DKIM-signed", async () => {
      await submit("bob@b.test", "first hop");
      const msg = await waitFor(
        async () => (await inbox(b!.store, "bob@b.test")).find((m) => m.includes("first hop")),
        "the message at B",
      );
      assert.match(msg, /^DKIM-Signature: .*d=a\.test/m);
      assert.ok(msg.includes("\r\n.leading dot line\r\n"), "dot-stuffing undone by B");
      const results = await verifyDkim(dns, msg.slice(msg.indexOf("DKIM-Signature")), "mx.b.test");
      assert.equal(results[0]?.status.result, "pass", JSON.stringify(results));
      await waitFor(async () => (await a!.store.listQueue()).length === 0, "A's queue to empty");
    });

    await t.step("unknown user at B -> bounce in the sender's INBOX naming B's reply", async () => {
      await submit("nobody@b.test", "to nobody");
      const bounce = await waitFor(
        async () =>
          (await inbox(a!.store, "alice@a.test")).find((m) => m.includes("nobody@b.test")),
        "the bounce at A",
      );
      assert.match(bounce, /^Return-Path: <>/);
      assert.match(bounce, /Content-Type: multipart\/report; report-type=delivery-status/);
      assert.match(bounce, /Final-Recipient: rfc822; nobody@b\.test/);
      assert.match(bounce, /Action: failed/);
      assert.match(bounce, /Status: 5\.1\.1/);
      assert.match(bounce, /Remote-MTA: dns; mx\.b\.test/);
      assert.match(bounce, /Diagnostic-Code: smtp; 550 5\.1\.1/);
      assert.match(bounce, /Subject: to nobody/); // the original comes back
      await waitFor(async () => (await a!.store.listQueue()).length === 0, "A's queue to empty");
    });

    await t.step("null MX -> immediate bounce (RFC 7505)", async () => {
      await submit("someone@null.test", "to null mx");
      const bounce = await waitFor(
        async () =>
          (await inbox(a!.store, "alice@a.test")).find((m) => m.includes("someone@null.test")),
        "the null MX bounce",
      );
      assert.match(bounce, /Status: 5\.1\.10/);
      assert.match(bounce, /Diagnostic-Code: smtp; 556 5\.1\.10/);
    });

    await t.step("one transaction for two b.test recipients, one unknown", async () => {
      await b!.addUser("carol@b.test", "secret-pw");
      await submit("carol@b.test,ghost@b.test", "two at b");
      await waitFor(
        async () => (await inbox(b!.store, "carol@b.test")).some((m) => m.includes("two at b")),
        "carol's copy",
      );
      const bounce = await waitFor(
        async () =>
          (await inbox(a!.store, "alice@a.test")).find((m) =>
            m.includes("ghost@b.test") && m.includes("Action: failed")
          ),
        "the bounce for ghost",
      );
      assert.ok(!/Final-Recipient: rfc822; carol@b\.test/.test(bounce));
    });

    await t.step("mail loop: too many Received headers -> 554 5.4.6 bounce", async () => {
      const received = Array.from({ length: 51 }, (_, i) => `Received: from hop${i}.test by x\r\n`)
        .join("");
      const body = received +
        "From: <alice@a.test>\r\nTo: <bob@b.test>\r\nSubject: looping\r\n\r\nloop\r\n";
      await python(
        `import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.a.test"); s.login("alice@a.test", "secret-pw")
s.sendmail("alice@a.test", ["bob@b.test"], sys.argv[2].encode()); s.quit()`,
        [String(a!.port("submission")), body],
      );
      const bounce = await waitFor(
        async () =>
          (await inbox(a!.store, "alice@a.test")).find((m) => m.includes("Status: 5.4.6")),
        "the loop bounce",
      );
      assert.match(bounce, /Diagnostic-Code: smtp; 554 5\.4\.6/);
      assert.ok(!(await inbox(b!.store, "bob@b.test")).some((m) => m.includes("Subject: looping")));
    });

    await t.step("B down -> retried on schedule -> B back -> delivered once", async () => {
      await b!.server.stop();
      await submit("bob@b.test", "while B was down");
      const entry = await waitFor(async () => {
        const q = await a!.store.listQueue();
        return q.find((e) => e.attempts >= 2 && e.lastError);
      }, "two failed attempts");
      assert.match(entry.lastError!, /^451 4\.4\.2/);
      assert.equal(entry.recipients[0].status, "pending");
      bRestarted = await startServer(b!.config);
      const store = bRestarted.deps.store;
      await waitFor(
        async () => (await inbox(store, "bob@b.test")).some((m) => m.includes("while B was down")),
        "delivery after B came back",
      );
      await waitFor(async () => (await a!.store.listQueue()).length === 0, "A's queue to empty");
      const copies = (await inbox(store, "bob@b.test")).filter((m) =>
        m.includes("while B was down")
      );
      assert.equal(copies.length, 1);
    });
  } finally {
    await a?.stop();
    if (bRestarted) {
      await (bRestarted as { stop(): Promise<void> }).stop();
      await Deno.remove(b!.dir, { recursive: true }).catch(() => {});
    } else {
      await b?.stop();
    }
    await dns.close();
  }
});
