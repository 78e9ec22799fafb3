/**
 * JMAP threads, Email/query and SearchSnippet (RFC 8621 §3, §4.4, §5) over mail delivered
 * with python smtplib: a reply joins its parent's thread (In-Reply-To/References plus the
 * base subject), the same subject alone or a reference with another subject does not;
 * every filter condition and sort on a small corpus; collapseThreads; anchors; snippets
 * marked and HTML-escaped; the RFC's errors.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { basic, JmapClient, type Json, sendWithSmtplib } from "./lib/jmap_client.ts";

const mail = (headers: string[], body: string[]) => [...headers, "", ...body, ""].join("\r\n");

/** Four messages; [A, B] are one thread. Delivered in this order. */
const CORPUS = [
  mail([
    "From: Dave Sender <dave@remote.test>",
    "To: Alice <alice@example.test>",
    "Subject: Lunch plans",
    "Date: Tue, 01 Dec 2026 10:00:00 +0000",
    "Message-ID: <a1@remote.test>",
  ], ["Shall we meet at noon?"]),
  mail([
    "From: Erin <erin@remote.test>",
    "To: alice@example.test",
    "Subject: Re: Lunch plans",
    "Date: Mon, 30 Nov 2026 10:00:00 +0000",
    "Message-ID: <a2@remote.test>",
    "In-Reply-To: <a1@remote.test>",
    "References: <a1@remote.test>",
  ], ["Noon works <b>great</b> & fine."]),
  mail([
    "From: zed@remote.test",
    "To: Bob <bob@example.test>",
    "Cc: carol@example.test",
    "Subject: Lunch plans",
    "Date: Wed, 02 Dec 2026 10:00:00 +0000",
    "Message-ID: <c1@remote.test>",
    "X-Colour: Blue sky",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
  ], [
    "--b1",
    "Content-Type: text/plain",
    "",
    "The quarterly numbers are attached.",
    "--b1",
    "Content-Type: application/pdf",
    "Content-Disposition: attachment; filename=q.pdf",
    "",
    "%PDF",
    "--b1--",
  ]),
  mail([
    "From: Anna <anna@remote.test>",
    "To: alice@example.test",
    "Subject: Re: Something else",
    "Date: Thu, 03 Dec 2026 10:00:00 +0000",
    "Message-ID: <d1@remote.test>",
    "In-Reply-To: <a1@remote.test>",
  ], ["Unrelated text, padded to be the largest message of all: " + "x".repeat(400)]),
];

Deno.test("jmap query: threads, every filter and sort, collapseThreads, snippets, errors", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const alice = await ts.addUser("alice@example.test", "alice-password");
    const accountId = `a${alice.id}`;
    const jmap = new JmapClient(
      `http://127.0.0.1:${ts.port("http")}`,
      basic("alice@example.test", "alice-password"),
    );
    for (const m of CORPUS) {
      await sendWithSmtplib(ts.port("smtp"), "x@remote.test", "alice@example.test", m);
      await new Promise((r) => setTimeout(r, 15)); // distinct receivedAt
    }
    const call = async (name: string, args: Json) => {
      const [[n, r]] = await jmap.api([[name, { accountId, ...args }, "0"]]);
      return n === "error" ? { error: r.type } : r;
    };
    const all = await call("Email/query", {
      sort: [{ property: "receivedAt", isAscending: true }],
    });
    const [A, B, C, D] = all.ids as string[];
    assert.equal(all.ids.length, 4);
    const ids = async (filter: Json, sort?: Json, extra: Json = {}) =>
      (await call("Email/query", { filter, sort, ...extra })).ids;
    const inbox = (await call("Mailbox/get", {})).list.find((m: Json) => m.role === "inbox").id;
    const inboxNum = Number(inbox.slice(1));

    await t.step(
      "threads: a reply joins its parent; subject alone or other subject does not",
      async () => {
        const got = await call("Email/get", { ids: [A, B, C, D], properties: ["threadId"] });
        const tid = got.list.map((e: Json) => e.threadId);
        assert.equal(tid[0], tid[1]);
        assert.equal(new Set(tid).size, 3);
        const th = await call("Thread/get", { ids: [tid[0], tid[2], "t999999"] });
        assert.deepEqual(th.list[0].emailIds, [A, B]); // by receivedAt
        assert.deepEqual(th.list[1].emailIds, [C]);
        assert.deepEqual(th.notFound, ["t999999"]);
        const every = await call("Thread/get", { ids: null });
        assert.equal(every.list.length, 3);
      },
    );

    // Keywords: A $flagged, B and A $seen.
    const msgs = await ts.store.listMessages(inboxNum);
    const uidOf = (e: string) => msgs.find((m) => `e${m.blobId}` === e)!.uid;
    await ts.store.updateFlags({
      mailboxId: inboxNum,
      uids: [uidOf(A)],
      op: "add",
      flags: ["\\Flagged"],
    });
    await ts.store.updateFlags({
      mailboxId: inboxNum,
      uids: [uidOf(A), uidOf(B)],
      op: "add",
      flags: ["\\Seen"],
    });
    const other = await ts.store.createMailbox(alice.id, "Archive");
    await ts.store.copyMessages(inboxNum, [uidOf(C)], other.id);

    await t.step("filters (RFC 8621 §4.4.1)", async () => {
      const asc = [{ property: "receivedAt", isAscending: true }];
      const f = (filter: Json) => ids(filter, asc);
      assert.deepEqual(await f({ inMailbox: `m${other.id}` }), [C]);
      assert.deepEqual(await f({ inMailboxOtherThan: [inbox] }), [C]);
      assert.deepEqual(await f({ inMailboxOtherThan: [`m${other.id}`] }), [A, B, C, D]);
      const got = await call("Email/get", { ids: [B], properties: ["receivedAt"] });
      assert.deepEqual(await f({ before: got.list[0].receivedAt }), [A]);
      assert.deepEqual(await f({ after: got.list[0].receivedAt }), [B, C, D]);
      const sizes = (await call("Email/get", { ids: [A, B, C, D], properties: ["size"] })).list
        .map((e: Json) => e.size);
      assert.deepEqual(await f({ minSize: sizes[3] }), [D]);
      assert.deepEqual(await f({ maxSize: sizes[3] }), [A, B, C]);
      assert.deepEqual(await f({ hasKeyword: "$flagged" }), [A]);
      assert.deepEqual(await f({ notKeyword: "$seen" }), [C, D]);
      assert.deepEqual(await f({ allInThreadHaveKeyword: "$seen" }), [A, B]);
      assert.deepEqual(await f({ someInThreadHaveKeyword: "$flagged" }), [A, B]);
      assert.deepEqual(await f({ noneInThreadHaveKeyword: "$flagged" }), [C, D]);
      assert.deepEqual(await f({ hasAttachment: true }), [C]);
      assert.deepEqual(await f({ hasAttachment: false }), [A, B, D]);
      assert.deepEqual(await f({ text: "noon" }), [A, B]);
      // Without a total the order is walked (a mailbox still restricts it); with one, the index.
      assert.deepEqual(await f({ inMailbox: `m${other.id}`, subject: "lunch" }), [C]);
      assert.deepEqual(await f({ inMailbox: `m${other.id}`, subject: "noon" }), []);
      const counted = await call("Email/query", { filter: { text: "noon" }, calculateTotal: true });
      assert.deepEqual([counted.ids, counted.total], [[B, A], 2]);
      assert.deepEqual(await f({ from: "erin" }), [B]);
      assert.deepEqual(await f({ to: "bob@" }), [C]);
      assert.deepEqual(await f({ cc: "carol" }), [C]);
      assert.deepEqual(await f({ bcc: "nobody" }), []);
      assert.deepEqual(await f({ subject: "lunch" }), [A, B, C]);
      assert.deepEqual(await f({ body: "quarterly" }), [C]);
      assert.deepEqual(await f({ header: ["X-Colour"] }), [C]);
      assert.deepEqual(await f({ header: ["x-colour", "SKY"] }), [C]);
      assert.deepEqual(await f({ header: ["x-colour", "red"] }), []);
      assert.deepEqual(
        await f({ operator: "OR", conditions: [{ from: "anna" }, { from: "zed" }] }),
        [C, D],
      );
      assert.deepEqual(await f({ operator: "NOT", conditions: [{ subject: "lunch" }] }), [D]);
      assert.deepEqual(
        await f({ operator: "AND", conditions: [{ subject: "lunch" }, { notKeyword: "$seen" }] }),
        [C],
      );
    });

    await t.step("sorts (RFC 8621 §4.4.2) and collapseThreads", async () => {
      const s = (property: string, isAscending = true, more: Json = {}) =>
        ids(null, [{ property, isAscending, ...more }]);
      assert.deepEqual(await s("receivedAt", false), [D, C, B, A]);
      assert.deepEqual((await s("size", false))[0], D);
      assert.deepEqual(await s("from"), [D, A, B, C]); // anna, dave sender, erin, zed@
      assert.deepEqual(await s("to"), [A, B, D, C]); // "alice", alice@…, alice@…, "bob"
      // Base subjects: "lunch plans" x3 (ties by storage order), then "something else".
      assert.deepEqual(await s("subject"), [A, B, C, D]);
      assert.deepEqual(await s("sentAt"), [B, A, C, D]);
      assert.deepEqual((await s("hasKeyword", false, { keyword: "$flagged" }))[0], A);
      const all = await s("allInThreadHaveKeyword", false, { keyword: "$seen" });
      assert.deepEqual(new Set(all.slice(0, 2)), new Set([A, B]));
      const some = await s("someInThreadHaveKeyword", false, { keyword: "$flagged" });
      assert.deepEqual(new Set(some.slice(0, 2)), new Set([A, B]));
      const collapsed = await call("Email/query", {
        sort: [{ property: "receivedAt", isAscending: true }],
        collapseThreads: true,
        calculateTotal: true,
      });
      assert.deepEqual([collapsed.ids, collapsed.total], [[A, C, D], 3]);
      const collapsedBox = await call("Email/query", {
        filter: { inMailbox: inbox },
        collapseThreads: true,
        calculateTotal: true,
      });
      assert.deepEqual([collapsedBox.ids, collapsedBox.total], [[D, C, B], 3]);
      const anchored = await call("Email/query", {
        sort: [{ property: "receivedAt", isAscending: true }],
        anchor: C,
        anchorOffset: -1,
        limit: 2,
      });
      assert.deepEqual([anchored.ids, anchored.position], [[B, C], 1]);
      // The indexed mailbox page agrees with the general path.
      const paged = await call("Email/query", {
        filter: { inMailbox: inbox },
        position: 1,
        limit: 2,
        calculateTotal: true,
      });
      assert.deepEqual([paged.ids, paged.total], [[C, B], 4]);
      const bySize = await call("Email/query", {
        filter: { inMailbox: inbox },
        sort: [{ property: "size", isAscending: false }],
      });
      assert.equal(bySize.ids[0], D);
    });

    await t.step("SearchSnippet/get: marks, HTML escaped, null without a match", async () => {
      const r = await call("SearchSnippet/get", {
        filter: { text: "noon" },
        emailIds: [A, B, C, "e999999"],
      });
      const by = new Map(r.list.map((x: Json) => [x.emailId, x]));
      assert.deepEqual(by.get(A), {
        emailId: A,
        subject: null,
        preview: "Shall we meet at <mark>noon</mark>?",
      });
      assert.equal(
        (by.get(B) as Json).preview,
        "<mark>Noon</mark> works &lt;b&gt;great&lt;/b&gt; &amp; fine.",
      );
      assert.deepEqual(by.get(C), { emailId: C, subject: null, preview: null });
      assert.deepEqual(r.notFound, ["e999999"]);
      const s = await call("SearchSnippet/get", { filter: { subject: "lunch" }, emailIds: [B] });
      assert.equal(s.list[0].subject, "Re: <mark>Lunch</mark> plans");
      assert.equal(s.notFound, null, "every id found: null (RFC 8621 §5.1)");
    });

    await t.step(
      "errors: unsupportedFilter, unsupportedSort, invalidArguments, anchorNotFound",
      async () => {
        assert.equal(
          (await call("Email/query", { filter: { nonsense: 1 } })).error,
          "unsupportedFilter",
        );
        let deep: Json = { subject: "x" };
        for (let i = 0; i < 20; i++) deep = { operator: "NOT", conditions: [deep] };
        assert.equal((await call("Email/query", { filter: deep })).error, "unsupportedFilter");
        const wide = {
          operator: "OR",
          conditions: Array.from({ length: 500 }, () => ({ from: "a" })),
        };
        assert.equal((await call("Email/query", { filter: wide })).error, "unsupportedFilter");
        assert.equal(
          (await call("Email/query", { sort: [{ property: "nonsense" }] })).error,
          "unsupportedSort",
        );
        assert.equal(
          (await call("Email/query", { sort: [{ property: "subject", collation: "i;klingon" }] }))
            .error,
          "unsupportedSort",
        );
        assert.equal(
          (await call("Email/query", { sort: [{ property: "hasKeyword" }] })).error,
          "invalidArguments",
        );
        assert.equal(
          (await call("Email/query", { filter: { hasAttachment: "yes" } })).error,
          "invalidArguments",
        );
        assert.equal(
          (await call("Email/query", { filter: { header: [] } })).error,
          "invalidArguments",
        );
        assert.equal((await call("Email/query", { anchor: "e999999" })).error, "anchorNotFound");
        assert.equal((await call("SearchSnippet/get", { filter: null })).error, "invalidArguments");
      },
    );
    await t.step("queryChanges (RFC 8620 §5.6): added at its index, removed, errors", async () => {
      const args = {
        filter: { inMailbox: inbox },
        sort: [{ property: "receivedAt", isAscending: false }],
      };
      const before = await call("Email/query", args);
      assert.equal(before.canCalculateChanges, true);
      const same = await call("Email/queryChanges", {
        ...args,
        sinceQueryState: before.queryState,
      });
      assert.deepEqual([same.removed, same.added], [[], []]);
      await sendWithSmtplib(
        ts.port("smtp"),
        "x@remote.test",
        "alice@example.test",
        mail(["From: x@remote.test", "Subject: newest"], ["new"]),
      );
      const after = await call("Email/query", args);
      const newest = after.ids[0];
      assert.ok(!before.ids.includes(newest));
      const added = await call("Email/queryChanges", {
        ...args,
        sinceQueryState: before.queryState,
        calculateTotal: true,
      });
      assert.equal(added.oldQueryState, before.queryState);
      assert.equal(added.newQueryState, after.queryState);
      assert.deepEqual(added.added, [{ id: newest, index: 0 }]);
      assert.deepEqual(added.removed, [newest]);
      assert.equal(added.total, after.ids.length);
      assert.equal(
        (await call("Email/queryChanges", {
          ...args,
          sinceQueryState: before.queryState,
          maxChanges: 1,
        }))
          .error,
        "tooManyChanges",
      );
      assert.equal(
        (await call("Email/queryChanges", { ...args, sinceQueryState: "bogus" })).error,
        "cannotCalculateChanges",
      );
      await call("Email/set", { destroy: [newest] });
      const removed = await call("Email/queryChanges", {
        ...args,
        sinceQueryState: after.queryState,
      });
      assert.deepEqual([removed.removed, removed.added], [[newest], []]);

      const boxes = await call("Mailbox/query", { sort: [{ property: "name" }] });
      assert.equal(boxes.canCalculateChanges, true);
      const created = await call("Mailbox/set", { create: { n: { name: "Aaa first" } } });
      const box = created.created.n.id;
      const boxChanges = await call("Mailbox/queryChanges", {
        sort: [{ property: "name" }],
        sinceQueryState: boxes.queryState,
      });
      assert.deepEqual(boxChanges.added, [{ id: box, index: 0 }]);
      assert.deepEqual(boxChanges.removed, [box]);
    });
  } finally {
    await ts.stop();
  }
});
