/**
 * JMAP sending (RFC 8621 §6–8): Identity, EmailSubmission and VacationResponse against two
 * denomail instances (a.test sends, b.test receives; MX records from a loopback DNS).
 * A submission reaches a local user's INBOX (read with python imaplib) and a remote user
 * through the queue, DKIM-signed, without its Bcc field; the draft moves to Sent by
 * onSuccessUpdateEmail; a foreign From: is forbiddenFrom, as on port 587.
 */
import assert from "node:assert/strict";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import {
  dnsSettings,
  inbox,
  publishDkimKey,
  startSender,
  waitFor,
} from "./lib/outbound_fixture.ts";
import { basic, CORE, JmapClient, type Json, MAIL } from "./lib/jmap_client.ts";

const SUBMISSION = "urn:ietf:params:jmap:submission";
const VACATION = "urn:ietf:params:jmap:vacationresponse";
const USING = [CORE, MAIL, SUBMISSION, VACATION];

const IMAP_INBOX_PY = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
typ, data = m.search(None, "ALL")
for n in data[0].split():
    typ, msg = m.fetch(n, "(RFC822)")
    sys.stdout.write(msg[0][1].decode("utf-8", "replace") + "\\n=====\\n")
m.logout()
`;

const draft = (from: string, subject: string) =>
  [
    `From: Alice <${from}>`,
    "To: Carol <carol@a.test>",
    "Cc: bob@b.test",
    "Bcc: secret-watcher@a.test",
    `Subject: ${subject}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Sent through JMAP.",
    "",
  ].join("\r\n");

Deno.test("jmap submission: identities, local + remote delivery, forbiddenFrom, vacation", async (t) => {
  const dns: TestDnsServer = await startDnsServer({
    "a.test": { MX: [{ preference: 10, exchange: "mx.a.test" }] },
    "mx.a.test": { A: ["127.0.0.1"] },
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
  });
  let a: TestServer | null = null;
  let b: TestServer | null = null;
  try {
    b = await startTestServer({
      hostname: "mx.b.test",
      dns: dnsSettings(dns),
      listeners: { smtp: "127.0.0.1:0" }, // port 0: a port picked earlier may be taken by then
    });
    await b.addUser("bob@b.test", "secret-pw");
    const bPort = b.port("smtp");
    a = await startSender(dns, bPort, {}, {
      listeners: { http: "127.0.0.1:0" },
      submission: { allowed_identities: { "alice@a.test": ["team@a.test"] } },
    });
    const A = a;
    const alice = (await A.store.getAccount("alice@a.test"))!;
    await A.addUser("carol@a.test", "carol-pw");
    await A.addUser("secret-watcher@a.test", "watch-pw");
    await A.store.setAlias("info@a.test", ["alice@a.test"]);
    await publishDkimKey(dns, A.config.dataDir, "a.test", "s1");
    const accountId = `a${alice.id}`;
    const jmap = new JmapClient(
      `http://127.0.0.1:${A.port("http")}`,
      basic("alice@a.test", "secret-pw"),
    );
    const api = (calls: Json[]) => jmap.api(calls, USING);
    const boxes = new Map(
      (await A.store.listMailboxes(alice.id)).map((m) => [m.name, `m${m.id}`]),
    );
    const putDraft = async (from: string, subject: string) => {
      const drafts = await A.store.getMailbox(alice.id, "Drafts");
      const placed = await A.store.append(
        drafts!.id,
        new TextEncoder().encode(draft(from, subject)),
        { flags: ["\\Draft"] },
      );
      const meta = await A.store.getMessages(drafts!.id, [placed.uid]);
      return `e${meta[0].blobId}`;
    };

    let identityId = "";
    await t.step("session announces submission and vacation; Identity/get", async () => {
      const session = await jmap.session();
      assert.ok(session.capabilities[SUBMISSION]);
      assert.equal(session.primaryAccounts[VACATION], accountId);
      const [[, r]] = await api([["Identity/get", { accountId }, "0"]]);
      const emails = r.list.map((i: Json) => i.email).sort();
      assert.deepEqual(emails, ["alice@a.test", "info@a.test", "team@a.test"]);
      identityId = r.list.find((i: Json) => i.email === "alice@a.test").id;
      assert.equal(r.list[0].mayDelete, false);
    });

    await t.step("Identity/set: update name, create a +tag, refuse a foreign address", async () => {
      const [[, r0]] = await api([["Identity/get", { accountId, ids: [] }, "0"]]);
      const [[, r]] = await api([["Identity/set", {
        accountId,
        update: { [identityId]: { name: "Alice A.", textSignature: "-- \nAlice" } },
        create: {
          tag: { email: "alice+news@a.test", name: "News" },
          foreign: { email: "mallory@elsewhere.test" },
        },
      }, "0"]]);
      assert.deepEqual(Object.keys(r.updated), [identityId]);
      assert.ok(r.created.tag.id);
      assert.equal(r.notCreated.foreign.type, "forbiddenFrom");
      const [[, c]] = await api([["Identity/changes", { accountId, sinceState: r0.state }, "0"]]);
      assert.deepEqual(c.created, [r.created.tag.id]);
      assert.deepEqual(c.updated, [identityId]);
      const [[, g]] = await api([["Identity/get", { accountId, ids: [identityId] }, "0"]]);
      assert.equal(g.list[0].name, "Alice A.");
      const [[, d]] = await api([["Identity/set", {
        accountId,
        destroy: [r.created.tag.id, identityId],
      }, "0"]]);
      assert.deepEqual(d.destroyed, [r.created.tag.id]);
      assert.equal(d.notDestroyed[identityId].type, "forbidden");
    });

    await t.step(
      "EmailSubmission/set: local INBOX (imaplib) and remote via the queue",
      async () => {
        const emailId = await putDraft("alice@a.test", "jmap hello");
        const responses = await api([["EmailSubmission/set", {
          accountId,
          create: { s1: { emailId, identityId } },
          onSuccessUpdateEmail: {
            "#s1": {
              [`mailboxIds/${boxes.get("Drafts")}`]: null,
              [`mailboxIds/${boxes.get("Sent")}`]: true,
              "keywords/$draft": null,
            },
          },
        }, "0"]]);
        const [name, r] = responses[0];
        assert.equal(name, "EmailSubmission/set", JSON.stringify(r));
        assert.ok(r.created?.s1?.id, JSON.stringify(r));
        assert.equal(r.created.s1.undoStatus, "final");
        assert.equal(responses[1][0], "Email/set");
        assert.deepEqual(Object.keys(responses[1][1].updated), [emailId]);
        assert.notEqual(responses[1][1].oldState, responses[1][1].newState);
        // The local recipient, read over IMAP.
        const carol = await waitFor(async () => {
          const out =
            (await python(IMAP_INBOX_PY, [String(A.port("imap")), "carol@a.test", "carol-pw"]))
              .stdout;
          return out.includes("jmap hello") ? out : null;
        }, "carol's INBOX over IMAP");
        assert.ok(!/^Bcc:/im.test(carol), "no Bcc field reaches recipients");
        assert.match(carol, /^Message-ID: </im);
        // The Bcc recipient got it too, the remote one through the queue (DKIM-signed).
        assert.ok(
          (await inbox(A.store, "secret-watcher@a.test")).some((m) => m.includes("jmap hello")),
        );
        const remote = await waitFor(
          async () => (await inbox(b!.store, "bob@b.test")).find((m) => m.includes("jmap hello")),
          "the message at B",
        );
        assert.match(remote, /^DKIM-Signature: .*d=a\.test/m);
        assert.ok(!/^Bcc:/im.test(remote));
        // onSuccessUpdateEmail moved the draft to Sent and cleared $draft.
        const [[, g]] = await api([["Email/get", {
          accountId,
          ids: [emailId],
          properties: ["mailboxIds", "keywords"],
        }, "0"]]);
        assert.deepEqual(g.list[0].mailboxIds, { [boxes.get("Sent")!]: true });
        assert.deepEqual(g.list[0].keywords, {});
        const [[, s]] = await api([[
          "EmailSubmission/get",
          { accountId, ids: [r.created.s1.id] },
          "0",
        ]]);
        assert.equal(s.list[0].emailId, emailId);
        assert.equal(s.list[0].envelope.mailFrom.email, "alice@a.test");
        assert.deepEqual(
          s.list[0].envelope.rcptTo.map((x: Json) => x.email).sort(),
          ["bob@b.test", "carol@a.test", "secret-watcher@a.test"],
        );
        const [[, q]] = await api([["EmailSubmission/query", {
          accountId,
          filter: { emailIds: [emailId] },
        }, "0"]]);
        assert.deepEqual(q.ids, [r.created.s1.id]);
        const [[, u]] = await api([["EmailSubmission/set", {
          accountId,
          update: { [r.created.s1.id]: { undoStatus: "canceled" } },
        }, "0"]]);
        assert.equal(u.notUpdated[r.created.s1.id].type, "cannotUnsend");
      },
    );

    await t.step("explicit envelope; onSuccessDestroyEmail", async () => {
      const emailId = await putDraft("info@a.test", "explicit envelope");
      const [[, r], [, e]] = await api([["EmailSubmission/set", {
        accountId,
        create: {
          s2: {
            emailId,
            identityId,
            envelope: { mailFrom: { email: "info@a.test" }, rcptTo: [{ email: "carol@a.test" }] },
          },
        },
        onSuccessDestroyEmail: ["#s2"],
      }, "0"]]);
      assert.ok(r.created.s2, JSON.stringify(r));
      assert.deepEqual(e.destroyed, [emailId]);
      const carol = await inbox(A.store, "carol@a.test");
      assert.ok(carol.some((m) => m.includes("explicit envelope")));
      assert.ok(
        !(await inbox(A.store, "secret-watcher@a.test")).some((m) =>
          m.includes("explicit envelope")
        ),
      );
    });

    await t.step("onSuccessUpdateEmail has Email/set's checks (tooManyKeywords)", async () => {
      const emailId = await putDraft("info@a.test", "many keywords");
      const keywords = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, true]));
      const [[, r], [, e]] = await api([["EmailSubmission/set", {
        accountId,
        create: {
          s3: {
            emailId,
            identityId,
            envelope: { mailFrom: { email: "info@a.test" }, rcptTo: [{ email: "carol@a.test" }] },
          },
        },
        // Before, this path set any number of keywords (Email/set refuses past 100).
        onSuccessUpdateEmail: { "#s3": { keywords } },
      }, "0"]]);
      assert.ok(r.created.s3, JSON.stringify(r));
      assert.equal(e.notUpdated[emailId].type, "tooManyKeywords", JSON.stringify(e));
      const [[, g]] = await api([["Email/get", {
        accountId,
        ids: [emailId],
        properties: ["keywords"],
      }, "0"]]);
      assert.deepEqual(g.list[0].keywords, { $draft: true });
    });

    await t.step("forbiddenFrom / forbiddenMailFrom: nothing is sent", async () => {
      const emailId = await putDraft("boss@b.test", "impersonation");
      const [[, r]] = await api([["EmailSubmission/set", {
        accountId,
        create: {
          bad: { emailId, identityId },
          badEnvelope: {
            emailId,
            identityId,
            envelope: { mailFrom: { email: "boss@b.test" }, rcptTo: [{ email: "carol@a.test" }] },
          },
        },
      }, "0"]]);
      assert.equal(r.notCreated.bad.type, "forbiddenFrom", JSON.stringify(r));
      assert.equal(r.notCreated.badEnvelope.type, "forbiddenMailFrom");
      assert.ok(!(await inbox(A.store, "carol@a.test")).some((m) => m.includes("impersonation")));
    });

    await t.step("VacationResponse/get and set (stored; singleton)", async () => {
      const [[, g0]] = await api([["VacationResponse/get", { accountId }, "0"]]);
      assert.deepEqual(g0.list, [{
        id: "singleton",
        isEnabled: false,
        fromDate: null,
        toDate: null,
        subject: null,
        textBody: null,
        htmlBody: null,
      }]);
      const [[, s]] = await api([["VacationResponse/set", {
        accountId,
        update: {
          singleton: {
            isEnabled: true,
            subject: "Away",
            textBody: "Back Monday.",
            toDate: "2026-12-24T00:00:00Z",
          },
        },
        create: { x: {} },
      }, "0"]]);
      assert.deepEqual(s.updated, { singleton: null });
      assert.equal(s.notCreated.x.type, "singleton");
      const [[, g]] = await api([["VacationResponse/get", { accountId }, "0"]]);
      assert.equal(g.list[0].isEnabled, true);
      assert.equal(g.list[0].textBody, "Back Monday.");
      const [[, bad]] = await api([["VacationResponse/set", {
        accountId,
        update: { singleton: { fromDate: "tomorrow" } },
      }, "0"]]);
      assert.deepEqual(bad.notUpdated.singleton.properties, ["fromDate"]);
    });
  } finally {
    await a?.stop();
    await b?.stop();
    await dns.close();
  }
});
