/**
 * Hostile JMAP requests against a running server (RFC 8620/8621 over HTTP): text filters and
 * snippets built to make substring search slow must be answered promptly and correctly.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./harness.ts";
import { basic, JmapClient, type Json } from "./lib/jmap_client.ts";

const enc = new TextEncoder();

/** A server with one user and a JMAP client of theirs, stopped after `fn`. */
async function withUser(
  fn: (
    u: {
      ts: TestServer;
      user: { id: number };
      accountId: string;
      jmap: JmapClient;
    },
  ) => Promise<void>,
): Promise<void> {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const user = await ts.addUser("hostile@example.test", "hostile-pass-1");
    const jmap = new JmapClient(
      `http://127.0.0.1:${ts.port("http")}`,
      basic("hostile@example.test", "hostile-pass-1"),
    );
    await fn({ ts, user, accountId: `a${user.id}`, jmap });
  } finally {
    await ts.stop();
  }
}

Deno.test("jmap: body filter and snippets with a 60 KB periodic needle over a 2 MB body", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    const body = "b" + "a".repeat(2_000_000) + "b";
    await ts.store.deliver(
      enc.encode(`From: a@x.test\r\nSubject: big\r\n\r\n${body}\r\n`),
      [{ accountId: user.id, mailbox: "INBOX" }],
    );
    await ts.store.deliver(
      enc.encode(`From: a@x.test\r\nSubject: hit\r\n\r\nsome aaaba here\r\n`),
      [{ accountId: user.id, mailbox: "INBOX" }],
    );
    const call = async (name: string, args: Json) => {
      const [[n, r]] = await jmap.api([[name, { accountId, ...args }, "0"]]);
      assert.notEqual(n, "error", JSON.stringify(r));
      return r;
    };
    // V8's includes()/indexOf() are O(text × needle) on this pair: about 17 s each before.
    const needle = "a".repeat(30_000) + "b" + "a".repeat(30_000);
    const t0 = performance.now();
    assert.deepEqual((await call("Email/query", { filter: { body: needle } })).ids, []);
    const all = (await call("Email/query", {})).ids as string[];
    const snippets = await call("SearchSnippet/get", { emailIds: all, filter: { body: needle } });
    assert.deepEqual(snippets.list.map((s: Json) => s.preview), [null, null]);
    const ms = performance.now() - t0;
    assert.ok(ms < 10_000, `the requests took ${ms.toFixed(0)} ms`);
    // What is there is still found and marked.
    const hit = await call("Email/query", { filter: { body: "aaab" } });
    assert.equal(hit.ids.length, 2);
    const marked = await call("SearchSnippet/get", { emailIds: all, filter: { text: "aaaba" } });
    const previews = marked.list.map((s: Json) => s.preview).filter((p: string | null) => p);
    assert.deepEqual(previews, ["some <mark>aaaba</mark> here"]);
  }));

Deno.test("jmap: Email/get previews of 150 HTML mails of 16 KB of '<'", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    const html = `<p>Hello <b>there</b></p>${"<".repeat(16_000)}`;
    const mail = enc.encode(
      `From: a@x.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: text/html\r\n\r\n${html}\r\n`,
    );
    for (let i = 0; i < 150; i++) {
      await ts.store.deliver(mail, [{ accountId: user.id, mailbox: "INBOX" }]);
    }
    const [[, q]] = await jmap.api([["Email/query", { accountId, limit: 200 }, "0"]]);
    assert.equal(q.ids.length, 150);
    // Each "<" without a ">" made the tag patterns rescan the rest: 90 ms per mail, 13.5 s for this Email/get before.
    const t0 = performance.now();
    const [[name, got]] = await jmap.api([
      ["Email/get", { accountId, ids: q.ids, properties: ["preview"] }, "1"],
    ]);
    const ms = performance.now() - t0;
    assert.equal(name, "Email/get");
    assert.equal(got.list.length, 150);
    assert.ok(got.list.every((e: Json) => e.preview.startsWith("Hello there <<<")));
    assert.ok(ms < 4_000, `Email/get took ${ms.toFixed(0)} ms`);
  }));

Deno.test("jmap: an Email carries at most 100 keywords (tooManyKeywords)", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    await ts.store.deliver(
      enc.encode(`From: a@x.test\r\nSubject: k\r\n\r\nhi\r\n`),
      [{ accountId: user.id, mailbox: "INBOX" }],
    );
    const [[, q]] = await jmap.api([["Email/query", { accountId }, "0"]]);
    const id = q.ids[0];
    const keywords = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, true]));
    const update = async (patch: Json) => {
      const [[, r]] = await jmap.api([["Email/set", { accountId, update: { [id]: patch } }, "1"]]);
      return r;
    };
    // Before, one request could give an Email any number of keywords (and IMAP FLAGS all).
    assert.equal(
      (await update({ keywords: keywords(101) })).notUpdated[id].type,
      "tooManyKeywords",
    );
    assert.ok(id in (await update({ keywords: { ...keywords(100), $seen: true } })).updated);
    assert.equal((await update({ "keywords/k100": true })).notUpdated[id].type, "tooManyKeywords");
    assert.ok(id in (await update({ "keywords/k5": true, "keywords/$flagged": true })).updated);
  }));

Deno.test("jmap: a mailbox holds at most 1,000 keywords, stored mail counted (tooManyKeywords)", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    // Mail stored with keywords no session of this server has seen: what a restart leaves
    // (the mailbox's keyword record starts empty; the limit must count the stored ones).
    for (let m = 0; m < 10; m++) {
      const flags = Array.from({ length: 100 }, (_, i) => `m${m}-${i}`);
      await ts.store.deliver(
        enc.encode(`From: a@x.test\r\nSubject: full ${m}\r\n\r\nhi\r\n`),
        [{ accountId: user.id, mailbox: "INBOX", flags }],
      );
    }
    await ts.store.deliver(
      enc.encode(`From: a@x.test\r\nSubject: plain\r\n\r\nhi\r\n`),
      [{ accountId: user.id, mailbox: "INBOX" }],
    );
    await ts.store.deliver(
      enc.encode(`From: a@x.test\r\nSubject: archived\r\n\r\nhi\r\n`),
      [{ accountId: user.id, mailbox: "Trash", flags: ["solo"] }],
    );
    const [[, boxes]] = await jmap.api([["Mailbox/get", { accountId }, "0"]]);
    const inbox = boxes.list.find((b: Json) => b.role === "inbox").id;
    const [[, q]] = await jmap.api([["Email/query", {
      accountId,
      filter: { text: "plain" },
    }, "0"]]);
    const [[, q2]] = await jmap.api([["Email/query", {
      accountId,
      filter: { text: "archived" },
    }, "0"]]);
    const [plain, archived] = [q.ids[0], q2.ids[0]];
    const set = async (args: Json) => {
      const [[, r]] = await jmap.api([["Email/set", { accountId, ...args }, "1"]]);
      return r;
    };
    // Before, JMAP had only the limit per Email: each Email/set could add 100 new
    // keywords to a mailbox, and every IMAP FLAGS response of it listed them all.
    const fresh = await set({ update: { [plain]: { "keywords/fresh": true } } });
    assert.equal(fresh.notUpdated[plain].type, "tooManyKeywords", JSON.stringify(fresh));
    const known = await set({ update: { [plain]: { "keywords/m3-7": true } } });
    assert.ok(plain in known.updated, JSON.stringify(known));
    // Into the mailbox with a keyword it does not have: refused; without it: fine.
    const moved = await set({ update: { [archived]: { [`mailboxIds/${inbox}`]: true } } });
    assert.equal(moved.notUpdated[archived].type, "tooManyKeywords", JSON.stringify(moved));
    const created = await set({
      create: {
        c1: {
          mailboxIds: { [inbox]: true },
          keywords: { brandnew: true },
          subject: "new",
          bodyValues: { "1": { value: "hi" } },
          textBody: [{ partId: "1", type: "text/plain" }],
        },
      },
    });
    assert.equal(created.notCreated.c1.type, "tooManyKeywords", JSON.stringify(created));
    const ok = await set({
      update: { [archived]: { "keywords/solo": null, [`mailboxIds/${inbox}`]: true } },
    });
    assert.ok(archived in ok.updated, JSON.stringify(ok));
  }));

Deno.test("jmap: one request's responses hold at most 64 MB of JSON (requestTooLarge)", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    // Mail anyone can send: 10,000 small parts, ~600 KB, ~5 MB of body-part JSON each.
    const parts = Array.from({ length: 10_000 }, (_, i) => `--b\r\n\r\npart ${i}\r\n`).join("");
    for (let i = 0; i < 14; i++) {
      const message = enc.encode(
        `From: a@x.test\r\nSubject: parts ${i}\r\nMIME-Version: 1.0\r\n` +
          `Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`,
      );
      await ts.store.deliver(message, [{ accountId: user.id, mailbox: "INBOX" }]);
    }
    const [[, q]] = await jmap.api([["Email/query", { accountId }, "0"]]);
    assert.equal(q.ids.length, 14);
    const get = async (ids: string[]) =>
      (await jmap.api([["Email/get", {
        accountId,
        ids,
        properties: ["bodyStructure", "textBody", "htmlBody", "attachments"],
      }, "0"]]))[0];
    // Before, the server built all of it (~70 MB here; 1,000 ids: gigabytes) in memory.
    const [name, err] = await get(q.ids);
    assert.equal(name, "error");
    assert.equal(err.type, "requestTooLarge");
    const [ok, one] = await get(q.ids.slice(0, 2));
    assert.equal(ok, "Email/get");
    assert.equal(one.list.length, 2);
    assert.ok(one.list[0].textBody.length > 9_000);
  }));

Deno.test("jmap: a Mailbox/query filter holds at most 256 conditions", () =>
  withUser(async ({ accountId, jmap }) => {
    const query = async (n: number) => {
      const conditions = Array.from({ length: n }, (_, i) => ({ name: `x${i}` }));
      conditions.push({ name: "inbox" });
      const filter = { operator: "OR", conditions };
      const [[name, r]] = await jmap.api([["Mailbox/query", { accountId, filter }, "0"]]);
      return name === "error" ? r.type : r.ids.length;
    };
    // Each condition is tried on every mailbox; before, a request could hold ~10^5 of them.
    assert.equal(await query(200), 1);
    assert.equal(await query(300), "unsupportedFilter");
  }));
