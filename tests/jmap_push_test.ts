/**
 * JMAP push by EventSource (RFC 8620 §7.3): a fetch-streaming client receives a StateChange
 * within 100 ms of an SMTP delivery (python smtplib) and of an IMAP flag change (imapflow),
 * with the states Email/get and Mailbox/get return; `types` filters, `closeafter=state`
 * ends the stream, `ping` pings; another user's stream hears nothing; and 1,000 open
 * streams cost less than 100 MB of RSS.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { flowClient } from "./imap_helpers.ts";
import { hashApiToken, newApiToken } from "../core/auth/api_token.ts";
import { basic, JmapClient, type Json, sendWithSmtplib } from "./lib/jmap_client.ts";

const MESSAGE = "From: dave@remote.test\r\nTo: alice@example.test\r\nSubject: push\r\n\r\nHi.\r\n";

/** Server-sent events read from a fetch body: `next()` resolves with the next event. */
class EventReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(res: Response) {
    this.#reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event (comments skipped), or null at the end of the stream. */
  async next(ms = 3000): Promise<{ event: string; data: Json; at: number } | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.#buf.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end + 2);
        const lines = block.split("\n").filter((l) => !l.startsWith(":"));
        if (lines.length === 0) continue;
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
        const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        return { event, data: JSON.parse(data), at: performance.now() };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no event in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#reader.read(),
        new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (r === "timeout") throw new Error("no event in time");
      if (r.done) return null;
      this.#buf += r.value;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

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
    await new Promise((r) => setTimeout(r, 50)); // initial states computed

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
      await new Promise((r) => setTimeout(r, 50));
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

    await t.step("bad parameters are 400", async () => {
      const r = await jmap.fetch("/jmap/eventsource/?types=*&closeafter=maybe&ping=0");
      assert.equal(r.status, 400);
      await r.body?.cancel();
    });

    await t.step("1,000 open EventSource streams cost < 100 MB RSS", async () => {
      // A bearer token: 1,000 password hashes would measure the hasher, not push.
      const token = newApiToken();
      await ts.store.createApiToken(alice.id, "push-test", hashApiToken(token));
      const auth = `Bearer ${token}`;
      const request = new TextEncoder().encode(
        `GET /jmap/eventsource/?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Authorization: ${auth}\r\n\r\n`,
      );
      await new Promise((r) => setTimeout(r, 100));
      const before = Deno.memoryUsage().rss;
      const conns: Deno.Conn[] = [];
      try {
        const buf = new Uint8Array(512);
        for (let i = 0; i < 1000; i += 50) {
          const batch = await Promise.all(
            Array.from({ length: 50 }, () => Deno.connect({ port: ts.port("http") })),
          );
          conns.push(...batch);
          await Promise.all(batch.map((c) => c.write(request)));
          // Each stream is open once its headers and first comment arrived.
          await Promise.all(batch.map((c) => c.read(buf)));
        }
        const grown = (Deno.memoryUsage().rss - before) / 1e6;
        console.log(`1,000 EventSource streams: +${grown.toFixed(1)} MB RSS (server and client)`);
        assert.ok(grown < 100, `${grown} MB`);
        // One delivery still reaches a stream quickly with all of them open.
        await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", MESSAGE);
        const sent = performance.now();
        const ev = await all.next();
        console.log(`push latency with 1,000 streams open: ${(ev!.at - sent).toFixed(1)} ms`);
        assert.ok(ev!.at - sent < 100);
      } finally {
        for (const c of conns) c.close();
      }
    });
  } finally {
    for (const r of readers) await r.cancel();
    await flow.logout().catch(() => {});
    await ts.stop();
  }
});
