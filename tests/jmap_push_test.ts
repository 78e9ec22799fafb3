/**
 * JMAP push by EventSource (RFC 8620 §7.3): a fetch-streaming client receives a StateChange
 * within 100 ms of an SMTP delivery (python smtplib) and of an IMAP flag change (imapflow),
 * with the states Email/get and Mailbox/get return; `types` filters, `closeafter=state`
 * ends the stream, `ping` pings; another user's stream hears nothing; PushSubscription
 * verification and POSTs (to a loopback sink only); and 1,000 open streams cost less than
 * 100 MB of RSS in a server process of their own.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { flowClient } from "./imap_helpers.ts";
import { cli, startDenomailProcess } from "./lib/server_process.ts";
import { basic, JmapClient, type Json, sendWithSmtplib } from "./lib/jmap_client.ts";
import { EventReader, openBearerStreams, rssOf } from "./lib/event_stream.ts";

const MESSAGE = "From: dave@remote.test\r\nTo: alice@example.test\r\nSubject: push\r\n\r\nHi.\r\n";

Deno.test("jmap push: EventSource StateChange after SMTP and IMAP changes", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  const readers: EventReader[] = [];
  const flow = flowClient(ts.port("imap"), ts.certPem, "alice@example.test", "alice-pw");
  try {
    const alice = await ts.addUser("alice@example.test", "alice-pw");
    await ts.addUser("bob@example.test", "bob-pw");
    const accountId = `a${alice.id}`;
    const base = `http://127.0.0.1:${ts.port("http")}`;
    const jmap = new JmapClient(base, basic("alice@example.test", "alice-pw"));
    const session = await jmap.session();
    const open = async (c: JmapClient, types: string, closeafter: string, ping: number) => {
      const url = new URL(
        session.eventSourceUrl.replace("{types}", types).replace("{closeafter}", closeafter)
          .replace("{ping}", String(ping)),
      );
      const res = await c.fetch(url.pathname + url.search, {
        headers: { accept: "text/event-stream" },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      const r = new EventReader(res);
      readers.push(r);
      return r;
    };
    const states = async () => {
      const [[, e], [, m]] = await jmap.api([
        ["Email/get", { accountId, ids: [] }, "e"],
        ["Mailbox/get", { accountId, ids: [] }, "m"],
      ]);
      return { Email: e.state, Mailbox: m.state };
    };

    const all = await open(jmap, "*", "no", 0);
    const bobs = await open(
      new JmapClient(base, basic("bob@example.test", "bob-pw")),
      "*",
      "no",
      0,
    );
    const mailboxOnly = await open(jmap, "Mailbox", "no", 0);

    await t.step("an SMTP delivery is pushed within 100 ms, with the get states", async () => {
      await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", MESSAGE);
      const sent = performance.now();
      const ev = await all.next();
      assert.ok(ev);
      assert.equal(ev.event, "state");
      assert.equal(ev.data["@type"], "StateChange");
      const changed = ev.data.changed[accountId];
      const now = await states();
      assert.equal(changed.Email, now.Email);
      assert.equal(changed.Thread, now.Email);
      assert.equal(changed.Mailbox, now.Mailbox);
      assert.ok(changed.EmailDelivery);
      assert.ok(ev.at - sent < 100, `pushed ${Math.round(ev.at - sent)} ms after the 250`);
      const m = await mailboxOnly.next();
      assert.deepEqual(Object.keys(m!.data.changed[accountId]), ["Mailbox"]);
    });

    await t.step("an IMAP flag change (imapflow) is pushed within 100 ms", async () => {
      await flow.connect();
      const lock = await flow.getMailboxLock("INBOX");
      try {
        await flow.messageFlagsAdd("1:*", ["\\Flagged"]);
        const done = performance.now();
        const ev = await all.next();
        const changed = ev!.data.changed[accountId];
        assert.equal(changed.Email, (await states()).Email);
        assert.equal(changed.EmailDelivery, undefined, "a flag change is no delivery");
        assert.ok(ev!.at - done < 100, `pushed ${Math.round(ev!.at - done)} ms after the flag`);
      } finally {
        lock.release();
      }
    });

    await t.step("another user's stream heard nothing", async () => {
      await assert.rejects(bobs.next(200), /no event in time/);
    });

    await t.step("closeafter=state ends the stream after one event; ping pings", async () => {
      const once = await open(jmap, "Email", "state", 0);
      const pinged = await open(jmap, "Email", "no", 1);
      await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", MESSAGE);
      const ev = await once.next();
      assert.deepEqual(Object.keys(ev!.data.changed[accountId]), ["Email"]);
      assert.equal(await once.next(), null, "the stream ended");
      let ping: Json = null;
      for (let i = 0; i < 3 && !ping; i++) {
        const e = await pinged.next(2500);
        if (e?.event === "ping") ping = e;
      }
      assert.deepEqual(ping?.data, { interval: 1 });
    });

    await t.step(
      "PushSubscription: verification, then StateChange POSTs (loopback only)",
      async () => {
        const posts: Json[] = [];
        let notify = () => {};
        const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
          posts.push(await req.json());
          notify();
          return new Response(null, { status: 201 });
        });
        const nextPost = (ms = 3000) =>
          new Promise<Json>((resolve, reject) => {
            const timer = setTimeout(() => {
              notify = () => {}; // a late POST stays in `posts` for the next wait
              reject(new Error("no POST in time"));
            }, ms);
            const check = () => {
              if (posts.length === 0) return;
              clearTimeout(timer);
              resolve(posts.shift());
            };
            notify = check;
            check();
          });
        try {
          const url = `http://127.0.0.1:${sink.addr.port}/push`;
          const [[, r]] = await jmap.api([["PushSubscription/set", {
            create: {
              p: { deviceClientId: "phone-1", url, types: ["Email"] },
              far: { deviceClientId: "x", url: "http://192.0.2.1/push" },
            },
          }, "0"]]);
          assert.equal(r.notCreated.far.type, "invalidProperties");
          const id = r.created.p.id;
          const verification = await nextPost();
          assert.deepEqual(Object.keys(verification).sort(), [
            "@type",
            "pushSubscriptionId",
            "verificationCode",
          ]);
          assert.equal(verification["@type"], "PushVerification");
          assert.equal(verification.pushSubscriptionId, id);
          // Not verified yet: a change is not POSTed.
          await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", MESSAGE);
          await assert.rejects(nextPost(300), /no POST in time/);
          const [[, u]] = await jmap.api([["PushSubscription/set", {
            update: { [id]: { verificationCode: verification.verificationCode } },
          }, "0"], ["PushSubscription/get", { ids: [id] }, "1"]]).then((x) => [x[0], x[1]]);
          assert.deepEqual(u.updated, { [id]: null });
          const [[, g]] = await jmap.api([["PushSubscription/get", { ids: null }, "0"]]);
          assert.equal(g.list[0].verificationCode, verification.verificationCode);
          assert.equal(g.list[0].url, undefined, "url is never returned");
          const [[e]] = await jmap.api([["PushSubscription/get", { properties: ["url"] }, "0"]]);
          assert.equal(e, "error");
          await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", MESSAGE);
          const change = await nextPost();
          assert.equal(change["@type"], "StateChange");
          assert.deepEqual(Object.keys(change.changed[accountId]), ["Email"]);
          await jmap.api([["PushSubscription/set", { destroy: [id] }, "0"]]);
        } finally {
          await sink.shutdown();
        }
      },
    );

    await t.step("Identity and VacationResponse changes are pushed too", async () => {
      const records = await open(jmap, "Identity,VacationResponse", "no", 0);
      const [[, ids]] = await jmap.api([["Identity/get", { accountId }, "0"]], [
        "urn:ietf:params:jmap:core",
        "urn:ietf:params:jmap:submission",
      ]);
      const [[, r]] = await jmap.api([["Identity/set", {
        accountId,
        update: { [ids.list[0].id]: { name: "Alice" } },
      }, "0"], ["VacationResponse/set", {
        accountId,
        update: { singleton: { isEnabled: true } },
      }, "1"]], [
        "urn:ietf:params:jmap:core",
        "urn:ietf:params:jmap:submission",
        "urn:ietf:params:jmap:vacationresponse",
      ]);
      const first = await records.next();
      assert.deepEqual(first!.data.changed[accountId], { Identity: r.newState });
      const second = await records.next();
      assert.deepEqual(Object.keys(second!.data.changed[accountId]), ["VacationResponse"]);
    });

    await t.step("bad parameters are 400", async () => {
      const r = await jmap.fetch("/jmap/eventsource/?types=*&closeafter=maybe&ping=0");
      assert.equal(r.status, 400);
      await r.body?.cancel();
    });
  } finally {
    for (const r of readers) await r.cancel();
    await flow.logout().catch(() => {});
    await ts.stop();
  }
});

Deno.test({
  name: "jmap push: 1,000 open EventSource streams cost < 100 MB RSS in the server process",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const server = await startDenomailProcess({
      prefix: "denomail-push-",
      listen: ["http", "smtp"],
      user: ["alice@example.test", "alice-password"],
    });
    const conns: Deno.Conn[] = [];
    try {
      const created = await cli([
        "token",
        "create",
        "alice@example.test",
        "--config",
        server.configPath,
      ]);
      assert.equal(created.code, 0, created.stderr);
      // A bearer token: 1,000 password hashes would measure the hasher, not push.
      const token = created.stdout.trim();
      const port = server.proc.ports.http;
      const pid = server.proc.child.pid;
      // Warm up: the JIT and the first allocations are not per stream.
      conns.push(...await openBearerStreams(port, token, 20));
      await new Promise((r) => setTimeout(r, 200));
      const before = await rssOf(pid);
      conns.push(...await openBearerStreams(port, token, 1000));
      await new Promise((r) => setTimeout(r, 200));
      const grown = (await rssOf(pid) - before) / 1e6;
      console.log(`1,000 open EventSource streams: +${grown.toFixed(1)} MB server RSS`);
      assert.ok(grown < 100, `${grown.toFixed(1)} MB`);
      // With all of them open, a delivery reaches a stream quickly.
      const reader = conns[conns.length - 1];
      await sendWithSmtplib(
        server.proc.ports.smtp,
        "dave@remote.test",
        "alice@example.test",
        MESSAGE,
      );
      const sent = performance.now();
      const buf = new Uint8Array(4096);
      const n = await reader.read(buf);
      const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      assert.match(text, /event: state/);
      console.log(
        `push latency with 1,000 streams open: ${
          (performance.now() - sent).toFixed(1)
        } ms after the 250`,
      );
    } finally {
      for (const c of conns) c.close();
      await server.stop();
    }
  },
});
