/**
 * The queue runner's bookkeeping: notices (bounces) owed atomically with the results that
 * cause them, connection reuse when several domains share one MX host, and RFC 3464 delay
 * warnings (end to end: python smtplib submits, the sender gets the warning in her INBOX).
 *
 * The first two drive a QueueRunner directly against a real SQLite store and a small
 * counting SMTP sink on loopback, so that a storage failure can be injected at an exact
 * point and connections counted.
 */
import assert from "node:assert/strict";
import { python, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import {
  dnsSettings,
  freePort,
  inbox,
  openLocalStore,
  sharedMxZone,
  startCountingSink,
  startSender,
  waitFor,
} from "./lib/outbound_fixture.ts";
import { configFromObject } from "../core/config.ts";
import { Router } from "../core/router.ts";
import { QueueRunner } from "../core/queue/runner.ts";
import { smtpSender } from "../protocols/smtp/client/client.ts";
import type { Store } from "../storage/mod.ts";

const enc = new TextEncoder();

/** A store and config of our own (no listeners, no runner of the server's). */
function openLocal(dns: TestDnsServer, smtpPort: number) {
  return openLocalStore("outbound-queue-", {
    hostname: "mx.a.test",
    dns: dnsSettings(dns),
    delivery: { smtp_port: smtpPort, retry_schedule: ["1s"] },
  });
}

function message(to: string, subject: string): Uint8Array {
  return enc.encode(
    `From: <alice@a.test>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
  );
}

Deno.test("outbound queue: a bounce is owed atomically with the result", async (t) => {
  const dns = await startDnsServer({
    "x.test": { MX: [{ preference: 10, exchange: "mx.x.test" }] },
    "mx.x.test": { A: ["127.0.0.1"] },
  });
  const sink = startCountingSink();
  const local = await openLocal(dns, sink.port);
  const { store, config } = local;
  const runners: QueueRunner[] = [];
  try {
    await store.createAccount("alice@a.test", "not-a-login-hash");
    // Storage fails exactly once, when the bounce is being stored: the moment between
    // recording the results and sending the notice they owe (a crash there is the same).
    let failNext = true;
    const flaky = new Proxy(store, {
      get(target, prop) {
        if (prop === "deliver" && failNext) {
          return () => {
            failNext = false;
            return Promise.reject(new Error("simulated storage failure"));
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    }) as Store;
    const runner = (s: Store) => {
      const r = new QueueRunner(
        { config, store: s, router: new Router(s), now: Date.now },
        smtpSender,
      );
      runners.push(r);
      return r;
    };
    const entry = await store.enqueue(message("good@x.test", "half bounces"), {
      sender: "alice@a.test",
      recipients: [
        { address: "good@x.test", status: "pending" },
        { address: "bad@x.test", status: "pending" },
      ],
      nextAttemptAt: 0,
      meta: {},
    });

    await t.step("results recorded, the notice owed, although storing it failed", async () => {
      await runner(flaky).runOnce();
      assert.equal(failNext, false, "the injected failure happened");
      assert.equal(sink.stats.messages, 1);
      const e = await store.getQueueEntry(entry.id);
      assert.ok(e, "the entry stays while it owes a notice");
      assert.deepEqual(
        e.recipients.map((r) => [r.address, r.status]),
        [["good@x.test", "delivered"], ["bad@x.test", "failed"]],
      );
      const notices = e.meta.notices as Array<{ action: string; recipients: unknown[] }>;
      assert.equal(notices.length, 1);
      assert.equal(notices[0].action, "failed");
      assert.ok(e.nextAttemptAt <= Date.now(), "due at once");
      assert.equal((await inbox(store, "alice@a.test")).length, 0);
    });

    await t.step("the next runner sends the bounce once, without delivering again", async () => {
      await runner(store).runOnce(); // a fresh runner, as after a restart
      assert.equal(sink.stats.messages, 1, "good@x.test got exactly one copy");
      const box = await inbox(store, "alice@a.test");
      assert.equal(box.length, 1);
      assert.match(box[0], /^Return-Path: <>/);
      assert.match(box[0], /Final-Recipient: rfc822; bad@x\.test/);
      assert.match(box[0], /Diagnostic-Code: smtp; 550 5\.1\.1 no such user/);
      assert.ok(!box[0].includes("Final-Recipient: rfc822; good@x.test"));
      assert.equal(await store.getQueueEntry(entry.id), null);
      await runner(store).runOnce();
      assert.equal((await inbox(store, "alice@a.test")).length, 1, "no second bounce");
    });
  } finally {
    for (const r of runners) await r.stop();
    await local.close();
    await sink.close();
    await dns.close();
  }
});

Deno.test("outbound queue: domains sharing one MX reuse its connections", async () => {
  const domains = Array.from({ length: 10 }, (_, d) => `d${d}.test`);
  const dns = await startDnsServer(sharedMxZone("mx.shared.test", domains));
  const sink = startCountingSink();
  const local = await openLocal(dns, sink.port);
  const { store, config } = local;
  const runner = new QueueRunner({
    config,
    store,
    router: new Router(store),
    now: Date.now,
    signer: null,
  }, smtpSender);
  try {
    const total = 30;
    for (let i = 0; i < total; i++) {
      const to = `u${i}@d${i % 10}.test`;
      await store.enqueue(message(to, `reuse ${i}`), {
        sender: "alice@a.test",
        recipients: [{ address: to, status: "pending" }],
        nextAttemptAt: 0,
        meta: {},
      });
    }
    // Each pass starts at most delivery.concurrency (20) attempts: 20, then 10.
    while ((await store.listQueue()).length > 0) await runner.runOnce();
    assert.equal(sink.stats.messages, total);
    // 20 connections at most at once, and the second pass reuses them all.
    assert.ok(
      sink.stats.connections <= config.delivery.concurrency,
      `${sink.stats.connections} connections for ${total} messages`,
    );
  } finally {
    await runner.stop();
    await local.close();
    await sink.close();
    await dns.close();
  }
});

Deno.test("outbound queue: delivery.delay_warning parses strictly", () => {
  const base = { hostname: "mx.a.test", data_dir: "/tmp/unused" };
  const cfg = (delivery: Record<string, unknown>) =>
    configFromObject({ ...base, delivery }, "/tmp").delivery.delayWarningMs;
  assert.equal(cfg({}), 4 * 3600_000);
  assert.equal(cfg({ delay_warning: "30m" }), 30 * 60_000);
  assert.equal(cfg({ delay_warning: "" }), 0);
  assert.equal(cfg({ delay_warning: "0s" }), 0);
  assert.throws(() => cfg({ delay_warning: "soon" }), /delivery\.delay_warning/);
  assert.throws(() => cfg({ delay_warning: 5 }), /delivery\.delay_warning/);
});

const SUBMIT = `
import smtplib, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.a.test")
s.login("alice@a.test", "secret-pw")
for to, subject, opts in [("slow@later.test", "warn me", []),
                          ("quiet@later.test", "failures only", ["NOTIFY=FAILURE"])]:
    body = "From: <alice@a.test>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\n\\r\\nbody text\\r\\n" % (to, subject)
    s.sendmail("alice@a.test", [to], body.encode(), rcpt_options=opts)
s.quit()
`;

Deno.test("outbound queue: one delay warning (RFC 3464 action=delayed)", async () => {
  const dns = await startDnsServer({
    "later.test": { MX: [{ preference: 10, exchange: "mx.later.test" }] },
    "mx.later.test": { A: ["127.0.0.1"] },
  });
  // A port nobody listens on: every attempt is a connection failure (4.4.2, retried).
  const deadPort = freePort();
  let a: TestServer | null = null;
  try {
    a = await startSender(dns, deadPort, { delay_warning: "1s" });
    await python(SUBMIT, [String(a.port("submission"))]);
    // Three attempts each: the warning condition held at two of them, and was sent once.
    const entries = await waitFor(async () => {
      const q = await a!.store.listQueue();
      return q.length === 2 && q.every((e) => e.attempts >= 3) ? q : null;
    }, "three attempts of both messages");
    const box = await inbox(a.store, "alice@a.test");
    assert.equal(box.length, 1, "exactly one warning, for the recipient who wants delays");
    const w = box[0];
    assert.match(w, /^Return-Path: <>/);
    assert.match(w, /^Subject: Delayed Mail/m);
    assert.match(w, /Final-Recipient: rfc822; slow@later\.test/);
    assert.match(w, /^Action: delayed$/m);
    assert.match(w, /^Status: 4\.4\.2$/m);
    assert.match(w, /^Diagnostic-Code: smtp; 451 4\.4\.2 mx\.later\.test/m);
    assert.match(w, /^Will-Retry-Until: /m);
    assert.match(w, /Content-Type: text\/rfc822-headers/); // the header only
    assert.match(w, /Subject: warn me/);
    assert.ok(!w.includes("body text"));
    for (const e of entries) {
      assert.equal(e.recipients[0].status, "pending", "still being retried");
      assert.equal(typeof e.meta.delayWarned, "number");
      assert.equal(e.meta.notices, undefined, "no notice left owed");
    }
  } finally {
    await a?.stop();
    await dns.close();
  }
});
