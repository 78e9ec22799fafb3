/**
 * The queue hook and the delivered / bounced notifications, end to end: a message is
 * submitted with python3 smtplib to A, whose plugin rejects one remote recipient (bounce to
 * the sender), relays another through a chosen host, and requires TLS for a third whose
 * relay does not offer STARTTLS (no MAIL is ever sent to it: retried later with 4.7.4).
 * B (another denomail) and a plaintext-only SMTP stub listen on loopback; DNS is a loopback
 * server.
 */
import assert from "node:assert/strict";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import {
  dnsSettings,
  inbox,
  startSender,
  SUBMIT_PY,
  waitFor as waitForWithin,
} from "./lib/outbound_fixture.ts";

const FIXTURES = new URL("./fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

const waitFor = <T>(fn: () => Promise<T | null | undefined | false>, what: string) =>
  waitForWithin(fn, what, 15_000);

/** An SMTP server that offers no STARTTLS and counts the MAIL commands it is sent. */
function plaintextStub() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen = { connections: 0, mail: 0 };
  const conns = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    conns.add(conn);
    seen.connections++;
    const enc = new TextEncoder();
    const say = (s: string) => conn.write(enc.encode(s + "\r\n")).catch(() => 0);
    await say("220 stub.test ESMTP");
    let buf = "";
    const chunk = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        buf += new TextDecoder().decode(chunk.subarray(0, n));
        let i: number;
        while ((i = buf.indexOf("\r\n")) >= 0) {
          const line = buf.slice(0, i).toUpperCase();
          buf = buf.slice(i + 2);
          if (line.startsWith("EHLO")) await say("250-stub.test\r\n250 8BITMIME");
          else if (line.startsWith("MAIL")) {
            seen.mail++;
            await say("250 ok");
          } else if (line.startsWith("QUIT")) {
            await say("221 bye");
            conn.close();
            return;
          } else await say("250 ok");
        }
      }
    } catch { /* closed */ }
    conns.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  };
  (async () => {
    for await (const c of listener) serve(c);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    seen,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("plugins: queue hook (reject, relay, require TLS) and delivered/bounced", async (t) => {
  const dns = await startDnsServer({
    "a.test": { MX: [{ preference: 10, exchange: "mx.a.test" }] },
    "mx.a.test": { A: ["127.0.0.1"] },
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
  });
  const stub = plaintextStub();
  let a: TestServer | null = null;
  let b: TestServer | null = null;
  try {
    b = await startTestServer({
      hostname: "mx.b.test",
      dns: dnsSettings(dns),
    });
    const bPort = b.port("smtp");
    a = await startSender(dns, bPort, {}, {
      plugins: [{
        name: "life",
        module: fixture("lifecycle.ts"),
        options: { relay: `127.0.0.1:${bPort}`, plainRelay: `127.0.0.1:${stub.port}` },
      }],
    });
    await b.addUser("ok@b.test", "secret-pw");
    await b.addUser("qreject@b.test", "secret-pw");
    await b.addUser("qtls@b.test", "secret-pw");
    // c.test has no DNS at all: only the plugin's relay can reach it.
    await b.addUser("qrelay@c.test", "secret-pw");
    const kv = (k: string) => a!.store.kvGet("plugin:life", k);
    await python(SUBMIT_PY, [
      String(a.port("submission")),
      "alice@a.test",
      "ok@b.test,qreject@b.test,qrelay@c.test,qtls@b.test",
      "queued",
    ]);

    await t.step("no plugin opinion: delivered by MX; `delivered` reported", async () => {
      await waitFor(
        async () => (await inbox(b!.store, "ok@b.test")).some((m) => m.includes("queued")),
        "ok@b.test's copy",
      );
      assert.match(
        await waitFor(() => kv("delivered:ok@b.test"), "delivered"),
        /^\d+ mx\.b\.test$/,
      );
    });

    await t.step("relay: a domain without DNS reached through the plugin's relay", async () => {
      await waitFor(
        async () => (await inbox(b!.store, "qrelay@c.test")).some((m) => m.includes("queued")),
        "qrelay@c.test's copy",
      );
      assert.match(
        await waitFor(() => kv("delivered:qrelay@c.test"), "delivered"),
        / 127\.0\.0\.1$/,
      );
    });

    await t.step("reject: a bounce to the sender; `bounced` reported; never sent", async () => {
      const bounce = await waitFor(
        async () =>
          (await inbox(a!.store, "alice@a.test")).find((m) => m.includes("qreject@b.test")),
        "the bounce",
      );
      assert.match(bounce, /Action: failed/);
      assert.match(bounce, /Status: 5\.7\.1/);
      assert.match(bounce, /550 5\.7\.1 queue says no \(plugin life\)/);
      assert.equal(
        await waitFor(() => kv("bounced:qreject@b.test"), "bounced"),
        "5.7.1 550 5.7.1 queue says no (plugin life)",
      );
      assert.equal((await inbox(b!.store, "qreject@b.test")).length, 0);
    });

    await t.step("require TLS: a relay without STARTTLS gets no MAIL; deferred 4.7.4", async () => {
      const entry = await waitFor(async () => {
        const q = await a!.store.listQueue();
        return q.find((e) =>
          e.recipients.some((r) => r.address === "qtls@b.test" && /4\.7\.4/.test(r.lastError ?? ""))
        );
      }, "the deferred qtls recipient");
      const r = entry.recipients.find((x) => x.address === "qtls@b.test")!;
      assert.equal(r.status, "pending");
      assert.match(r.lastError!, /TLS required by policy/);
      assert.ok(stub.seen.connections >= 1, "the relay was tried");
      assert.equal(stub.seen.mail, 0, "no MAIL without TLS");
      assert.equal((await inbox(b!.store, "qtls@b.test")).length, 0);
      assert.equal(await kv("bounced:qtls@b.test"), null, "deferred, not bounced");
    });
  } finally {
    await a?.stop();
    await b?.stop();
    stub.close();
    await dns.close();
  }
});
