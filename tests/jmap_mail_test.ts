/**
 * JMAP mail (RFC 8621) read side: mail delivered over SMTP (python smtplib) is found with
 * Email/query + Email/get (chained by a result reference, as in RFC 8620 §3.7's example),
 * mailboxes carry their roles, ids survive a restart, and one user never sees another's.
 */
import assert from "node:assert/strict";
import { type RunningServer, startServer } from "../app/server.ts";
import { startTestServer } from "./harness.ts";
import { basic, JmapClient, type Json, sendWithSmtplib } from "./lib/jmap_client.ts";

const PLAIN = [
  "From: Dave Sender <dave@remote.test>",
  "To: Alice <alice@example.test>",
  "Subject: =?UTF-8?B?SGVsbG8gw6lsw6hzIQ==?=",
  "Date: Tue, 01 Dec 2026 10:00:00 +0100",
  "Message-ID: <one@remote.test>",
  "",
  "First line of the body,",
  "and the second.",
  "",
].join("\r\n");

const MULTIPART = [
  "From: eve@remote.test",
  "To: alice@example.test, Bob <bob@example.test>",
  "Cc: carol@example.test",
  "Subject: report",
  "Date: Wed, 02 Dec 2026 09:30:00 +0000",
  "Message-ID: <two@remote.test>",
  "In-Reply-To: <one@remote.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "See the attached report.",
  "--b1",
  'Content-Type: application/pdf; name="r.pdf"',
  "Content-Disposition: attachment; filename=r.pdf",
  "Content-Transfer-Encoding: base64",
  "",
  "JVBERi0xLjQK",
  "--b1--",
  "",
].join("\r\n");

Deno.test("jmap mail: SMTP delivery found with Email/query + Email/get; isolation; stable ids", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  const later: { server: RunningServer | null } = { server: null };
  try {
    const alice = await ts.addUser("alice@example.test", "alice-password");
    const bob = await ts.addUser("bob@example.test", "bob-password");
    const aliceId = `a${alice.id}`;
    const bobId = `a${bob.id}`;
    const base = () => `http://127.0.0.1:${later.server?.ports.http ?? ts.port("http")}`;
    const as = (user: string, pw: string) => new JmapClient(base(), basic(user, pw));
    const jmapA = () => as("alice@example.test", "alice-password");
    const jmapB = () => as("bob@example.test", "bob-password");

    await sendWithSmtplib(ts.port("smtp"), "dave@remote.test", "alice@example.test", PLAIN);
    await new Promise((r) => setTimeout(r, 20)); // distinct receivedAt
    await sendWithSmtplib(ts.port("smtp"), "eve@remote.test", "alice@example.test", MULTIPART);
    await sendWithSmtplib(ts.port("smtp"), "eve@remote.test", "bob@example.test", PLAIN);
    await ts.store.createMailbox(alice.id, "Projects");
    await ts.store.createMailbox(alice.id, "Projects/Work");

    let inboxId = "";
    let mailboxState = "";
    await t.step("Mailbox/get: roles from SPECIAL-USE, counts, hierarchy", async () => {
      const [[name, r]] = await jmapA().api([[
        "Mailbox/get",
        { accountId: aliceId, ids: null },
        "0",
      ]]);
      assert.equal(name, "Mailbox/get");
      const byName = new Map(r.list.map((m: Json) => [m.name, m]));
      assert.deepEqual(
        ["Inbox", "Drafts", "Sent", "Trash", "Junk"].map((n) => (byName.get(n) as Json)?.role),
        ["inbox", "drafts", "sent", "trash", "junk"],
      );
      const inbox = byName.get("Inbox") as Json;
      inboxId = inbox.id;
      assert.equal(inbox.totalEmails, 2);
      assert.equal(inbox.unreadEmails, 2);
      assert.equal(inbox.parentId, null);
      assert.equal(inbox.myRights.mayDelete, false);
      const work = byName.get("Work") as Json;
      assert.equal(work.parentId, (byName.get("Projects") as Json).id);
      assert.deepEqual(r.notFound, []);
      mailboxState = r.state;
      const [[, same]] = await jmapA().api([
        ["Mailbox/changes", { accountId: aliceId, sinceState: mailboxState }, "0"],
      ]);
      assert.deepEqual([same.oldState, same.newState, same.created], [
        mailboxState,
        mailboxState,
        [],
      ]);
    });

    await t.step("Mailbox/query: filters, sort by sortOrder and name, sortAsTree", async () => {
      const r = await jmapA().api([
        ["Mailbox/get", { accountId: aliceId, properties: ["name"] }, "g"],
        ["Mailbox/query", {
          accountId: aliceId,
          filter: { hasAnyRole: true },
          sort: [{ property: "sortOrder" }],
        }, "roles"],
        ["Mailbox/query", {
          accountId: aliceId,
          filter: { hasAnyRole: false },
          sort: [{ property: "name", isAscending: false }],
          sortAsTree: true,
          calculateTotal: true,
        }, "tree"],
        ["Mailbox/query", { accountId: aliceId, filter: { name: "WOR" } }, "name"],
      ]);
      const names = new Map(r[0][1].list.map((m: Json) => [m.id, m.name]));
      const named = (i: number) => r[i][1].ids.map((id: string) => names.get(id));
      assert.deepEqual(named(1), ["Inbox", "Drafts", "Sent", "Junk", "Trash"]);
      assert.deepEqual(named(2), ["Projects", "Work"], "a parent before its children");
      assert.equal(r[2][1].total, 2);
      assert.deepEqual(named(3), ["Work"]);
    });

    let ids: string[] = [];
    await t.step(
      "Email/query (inMailbox, receivedAt desc, total) + Email/get by reference",
      async () => {
        const r = await jmapA().api([
          ["Email/query", {
            accountId: aliceId,
            filter: { inMailbox: inboxId },
            sort: [{ property: "receivedAt", isAscending: false }],
            calculateTotal: true,
          }, "q"],
          ["Email/get", {
            accountId: aliceId,
            "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
            properties: [
              "blobId",
              "threadId",
              "mailboxIds",
              "keywords",
              "size",
              "receivedAt",
              "messageId",
              "inReplyTo",
              "from",
              "to",
              "cc",
              "subject",
              "sentAt",
              "preview",
              "hasAttachment",
            ],
          }, "g"],
        ]);
        const [[qn, q], [gn, g]] = r;
        assert.equal(qn, "Email/query", JSON.stringify(q));
        assert.equal(gn, "Email/get", JSON.stringify(g));
        assert.equal(q.total, 2);
        assert.equal(q.position, 0);
        assert.equal(q.ids.length, 2);
        ids = q.ids;
        const [newest, oldest] = g.list;
        assert.deepEqual(g.list.map((e: Json) => e.id), q.ids);
        assert.equal(newest.subject, "report");
        assert.deepEqual(newest.to, [
          { name: null, email: "alice@example.test" },
          { name: "Bob", email: "bob@example.test" },
        ]);
        assert.deepEqual(newest.cc, [{ name: null, email: "carol@example.test" }]);
        assert.deepEqual(newest.inReplyTo, ["one@remote.test"]);
        assert.equal(newest.hasAttachment, true);
        assert.equal(newest.preview, "See the attached report.");
        assert.equal(newest.sentAt, "2026-12-02T09:30:00Z");
        assert.equal(oldest.subject, "Hello élès!");
        assert.deepEqual(oldest.from, [{ name: "Dave Sender", email: "dave@remote.test" }]);
        assert.deepEqual(oldest.messageId, ["one@remote.test"]);
        assert.equal(oldest.sentAt, "2026-12-01T09:00:00Z");
        assert.equal(oldest.preview, "First line of the body, and the second.");
        assert.equal(oldest.hasAttachment, false);
        assert.deepEqual(oldest.keywords, {});
        assert.deepEqual(oldest.mailboxIds, { [inboxId]: true });
        assert.match(oldest.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        assert.ok(oldest.size > PLAIN.length - 10);
        assert.notEqual(oldest.blobId, newest.blobId);

        // position / limit
        const [[, page]] = await jmapA().api([
          ["Email/query", { accountId: aliceId, position: 1, limit: 1, calculateTotal: true }, "0"],
        ]);
        assert.deepEqual([page.ids, page.position, page.total], [[ids[1]], 1, 2]);
        const [[, asc]] = await jmapA().api([
          ["Email/query", { accountId: aliceId, sort: [{ property: "receivedAt" }] }, "0"],
        ]);
        assert.deepEqual(asc.ids, [...ids].reverse());
        const [[errName, err]] = await jmapA().api([
          ["Email/query", { accountId: aliceId, sort: [{ property: "nonsense" }] }, "0"],
        ]);
        assert.deepEqual([errName, err.type], ["error", "unsupportedSort"]);
      },
    );

    let emailState = "";
    await t.step(
      "Thread/get (one thread per email), Email/changes, Email/queryChanges",
      async () => {
        const r = await jmapA().api([
          ["Email/get", { accountId: aliceId, ids, properties: ["threadId"] }, "g"],
          ["Thread/get", {
            accountId: aliceId,
            "#ids": { resultOf: "g", name: "Email/get", path: "/list/*/threadId" },
          }, "t"],
        ]);
        const [[, g], [tn, th]] = r;
        assert.equal(tn, "Thread/get", JSON.stringify(th));
        assert.deepEqual(th.list.map((x: Json) => x.emailIds), ids.map((id) => [id]));
        emailState = g.state;
        const [[, same], [qn, qc]] = await jmapA().api([
          ["Email/changes", { accountId: aliceId, sinceState: emailState }, "0"],
          ["Email/queryChanges", { accountId: aliceId, sinceQueryState: emailState }, "1"],
        ]);
        assert.deepEqual([same.newState, same.created, same.hasMoreChanges], [
          emailState,
          [],
          false,
        ]);
        // The query state is the Email state: nothing changed since (RFC 8620 §5.6).
        assert.deepEqual([qn, qc.removed, qc.added], ["Email/queryChanges", [], []]);
      },
    );

    await t.step("flags are keywords; a copy is the same Email in two mailboxes", async () => {
      const inbox = (await ts.store.getMailbox(alice.id, "INBOX"))!;
      const msgs = await ts.store.listMessages(inbox.id);
      await ts.store.updateFlags({
        mailboxId: inbox.id,
        uids: [msgs[0].uid],
        op: "add",
        flags: ["\\Seen", "\\Flagged", "Work"],
      });
      const archive = await ts.store.createMailbox(alice.id, "Archive", "\\Archive");
      await ts.store.copyMessages(inbox.id, [msgs[0].uid], archive.id);
      const [[, g]] = await jmapA().api([
        [
          "Email/get",
          { accountId: aliceId, ids: [ids[1]], properties: ["mailboxIds", "keywords"] },
          "0",
        ],
      ]);
      assert.deepEqual(g.list[0].keywords, { $seen: true, $flagged: true, work: true });
      assert.deepEqual(
        Object.keys(g.list[0].mailboxIds).sort(),
        [inboxId, `m${archive.id}`].sort(),
      );
      const [[, q]] = await jmapA().api([
        ["Email/query", { accountId: aliceId, filter: { hasKeyword: "$seen" } }, "0"],
      ]);
      assert.deepEqual(q.ids, [ids[1]]);
      // The change log answers both (state.ts): the new mailbox is created, the flagged
      // and copied Email updated.
      const [[name, changes]] = await jmapA().api([
        ["Mailbox/changes", { accountId: aliceId, sinceState: mailboxState }, "0"],
      ]);
      assert.equal(name, "Mailbox/changes", JSON.stringify(changes));
      assert.ok(changes.created.includes(`m${archive.id}`));
      const [[ename, echanges]] = await jmapA().api([
        ["Email/changes", { accountId: aliceId, sinceState: emailState }, "0"],
      ]);
      assert.deepEqual([ename, echanges.created, echanges.updated], ["Email/changes", [], [
        ids[1],
      ]]);
      const [[, bad]] = await jmapA().api([
        ["Email/changes", { accountId: aliceId, sinceState: "not-a-state" }, "0"],
      ]);
      assert.equal(bad.type, "cannotCalculateChanges");
    });

    await t.step("download of a message blob is byte-exact", async () => {
      const [[, g]] = await jmapA().api([
        ["Email/get", { accountId: aliceId, ids: [ids[0]], properties: ["blobId"] }, "0"],
      ]);
      const res = await jmapA().fetch(`/jmap/download/${aliceId}/${g.list[0].blobId}/m.eml`);
      assert.equal(res.status, 200);
      const got = new TextDecoder().decode(await res.arrayBuffer());
      assert.ok(got.endsWith(MULTIPART), "the stored message ends with what was sent");
    });

    await t.step("body: textBody, htmlBody, attachments, bodyValues; a part's blob", async () => {
      const [[name, g]] = await jmapA().api([
        ["Email/get", {
          accountId: aliceId,
          ids: [ids[0]],
          properties: ["bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"],
          fetchTextBodyValues: true,
          maxBodyValueBytes: 8,
        }, "0"],
      ]);
      assert.equal(name, "Email/get", JSON.stringify(g));
      const e = g.list[0];
      assert.equal(e.bodyStructure.type, "multipart/mixed");
      assert.equal(e.bodyStructure.partId, null);
      assert.deepEqual(e.bodyStructure.subParts.map((p: Json) => p.partId), ["1", "2"]);
      assert.deepEqual(e.textBody.map((p: Json) => [p.partId, p.type, p.charset]), [
        ["1", "text/plain", "utf-8"],
      ]);
      assert.deepEqual(e.htmlBody.map((p: Json) => p.partId), ["1"]);
      assert.deepEqual(e.attachments.map((p: Json) => [p.partId, p.name, p.disposition, p.size]), [
        ["2", "r.pdf", "attachment", 9],
      ]);
      assert.deepEqual(e.bodyValues, {
        "1": { value: "See the ", isEncodingProblem: false, isTruncated: true },
      });
      const res = await jmapA().fetch(
        `/jmap/download/${aliceId}/${e.attachments[0].blobId}/r.pdf?accept=application/pdf`,
      );
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "%PDF-1.4\n");
      const other = await jmapB().fetch(`/jmap/download/${bobId}/${e.attachments[0].blobId}/r`);
      assert.equal(other.status, 404, "a part of another account's message");
      await other.body?.cancel();
    });

    await t.step("header:{name}:as{Form} properties (RFC 8621 §4.1.3)", async () => {
      const r = await jmapA().api([
        ["Email/get", {
          accountId: aliceId,
          ids: [ids[1]],
          properties: ["header:Subject", "header:Subject:asText", "header:Received:all"],
        }, "0"],
        ["Email/get", { accountId: aliceId, ids, properties: ["header:Subject:asDate"] }, "1"],
      ]);
      const e = r[0][1].list[0];
      assert.equal(e["header:Subject"], " =?UTF-8?B?SGVsbG8gw6lsw6hzIQ==?=");
      assert.equal(e["header:Subject:asText"], "Hello élès!");
      assert.ok(e["header:Received:all"].length >= 1, "our Received field");
      assert.deepEqual([r[1][0], r[1][1].type], ["error", "invalidArguments"]);
    });

    await t.step(
      "headers: every field in order, Raw (RFC 8621 §4.1.3); not by default",
      async () => {
        const [[, got], [, plain]] = await jmapA().api([
          [
            "Email/get",
            { accountId: aliceId, ids: [ids[1]], properties: ["headers", "subject"] },
            "0",
          ],
          ["Email/get", { accountId: aliceId, ids: [ids[1]] }, "1"],
        ]);
        const headers = got.list[0].headers as Array<{ name: string; value: string }>;
        // Our Received (and trace) fields come first, then the message's own, as sent.
        const own = headers.slice(headers.findIndex((h) => h.name === "From"));
        assert.deepEqual(own.map((h) => h.name), ["From", "To", "Subject", "Date", "Message-ID"]);
        assert.equal(own[0].value, " Dave Sender <dave@remote.test>");
        assert.equal(own[2].value, " =?UTF-8?B?SGVsbG8gw6lsw6hzIQ==?=");
        assert.ok(headers.some((h) => h.name === "Received"));
        assert.equal(got.list[0].subject, "Hello élès!");
        assert.ok(!("headers" in plain.list[0]), "headers is not a default property");
      },
    );

    await t.step("isolation: bob never reads alice's mailboxes, emails or blobs", async () => {
      const r = await jmapB().api([
        ["Mailbox/get", { accountId: aliceId }, "0"],
        ["Email/query", { accountId: aliceId }, "1"],
        ["Email/get", { accountId: aliceId, ids }, "2"],
        ["Email/get", { accountId: bobId, ids, properties: ["subject"] }, "3"],
        ["Mailbox/get", { accountId: bobId, ids: [inboxId] }, "4"],
        ["Email/query", { accountId: bobId, filter: { inMailbox: inboxId } }, "5"],
      ]);
      assert.deepEqual(r.slice(0, 3).map((x: Json) => [x[0], x[1].type]), [
        ["error", "accountNotFound"],
        ["error", "accountNotFound"],
        ["error", "accountNotFound"],
      ]);
      assert.deepEqual([r[3][1].list, r[3][1].notFound], [[], ids]);
      assert.deepEqual([r[4][1].list, r[4][1].notFound], [[], [inboxId]]);
      assert.deepEqual(r[5][1].ids, []);
      const [[, own]] = await jmapB().api([
        ["Email/query", { accountId: bobId, calculateTotal: true }, "0"],
      ]);
      assert.equal(own.total, 1, "bob sees his own mail");
      const [[, aliceBlob]] = await jmapA().api([
        ["Email/get", { accountId: aliceId, ids: [ids[0]], properties: ["blobId"] }, "0"],
      ]);
      for (const acc of [aliceId, bobId]) {
        const res = await jmapB().fetch(`/jmap/download/${acc}/${aliceBlob.list[0].blobId}/x`);
        assert.equal(res.status, 404);
        await res.body?.cancel();
      }
    });

    await t.step(
      "Email/query text conditions (RFC 8621 §4.4.1), as IMAP SEARCH reads them",
      async () => {
        const q = async (filter: Json, who = jmapA(), accountId = aliceId) => {
          const [[name, r]] = await who.api([["Email/query", { accountId, filter }, "0"]]);
          assert.equal(name, "Email/query", JSON.stringify(r));
          return r.ids;
        };
        assert.deepEqual(await q({ text: "ATTACHED report" }), [ids[0]]);
        assert.deepEqual(await q({ from: "dave" }), [ids[1]]);
        assert.deepEqual(await q({ subject: "élès" }), [ids[1]]);
        assert.deepEqual(await q({ to: "bob@example.test" }), [ids[0]]);
        assert.deepEqual(await q({ cc: "carol" }), [ids[0]]);
        assert.deepEqual(await q({ body: "the second" }), [ids[1]]);
        assert.deepEqual(await q({ body: "nowhere to be found" }), []);
        assert.deepEqual(
          await q({ operator: "OR", conditions: [{ subject: "report" }, { from: "dave@remote" }] }),
          ids,
        );
        assert.deepEqual(
          await q({
            operator: "AND",
            conditions: [{ inMailbox: inboxId }, {
              operator: "NOT",
              conditions: [{ text: "report" }],
            }],
          }),
          [ids[1]],
        );
        // bob got the same text in his own message: he finds only his own.
        const bobs = await q({ text: "first line" }, jmapB(), bobId);
        assert.equal(bobs.length, 1);
        assert.ok(!ids.includes(bobs[0]), "his copy is a message of his own");
      },
    );

    await t.step("ids are the same after a restart", async () => {
      const [[, before]] = await jmapA().api([["Mailbox/get", { accountId: aliceId }, "0"]]);
      await ts.server.stop();
      later.server = await startServer(ts.config);
      const r = await jmapA().api([
        ["Email/query", { accountId: aliceId, filter: { inMailbox: inboxId } }, "0"],
        ["Mailbox/get", { accountId: aliceId }, "1"],
      ]);
      assert.deepEqual(r[0][1].ids, ids);
      assert.deepEqual(r[1][1].list.map((m: Json) => m.id), before.list.map((m: Json) => m.id));
    });
  } finally {
    await later.server?.stop();
    await ts.stop();
  }
});
