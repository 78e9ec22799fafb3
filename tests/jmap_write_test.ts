/**
 * JMAP writes (RFC 8621 §4.6-4.8) over HTTP against a running server, and one history for
 * both protocols: a flag set over IMAP (imapflow) is an update in Email/changes, a JMAP
 * Email/set is seen by an IMAP client (FETCH FLAGS and IDLE), moves and destroys are
 * classified right, and another account's ids are refused for every write.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { basic, JmapClient, type Json } from "./lib/jmap_client.ts";
import { deliver, flowClient, once, sampleMessage } from "./imap_helpers.ts";

const enc = new TextEncoder();
const PLUGIN_FIX = new URL("./fixtures/plugins/", import.meta.url);

async function until<T>(what: string, fn: () => Promise<T | null>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("jmap write: Email/set, Email/import, changes shared with IMAP", async (t) => {
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    limits: { max_message_bytes: 100_000 },
  });
  const alice = await ts.addUser("alice@example.test", "alice-password");
  const bob = await ts.addUser("bob@example.test", "bob-password");
  const aliceId = `a${alice.id}`;
  const bobId = `a${bob.id}`;
  const base = `http://127.0.0.1:${ts.port("http")}`;
  const jmapA = new JmapClient(base, basic("alice@example.test", "alice-password"));
  const jmapB = new JmapClient(base, basic("bob@example.test", "bob-password"));
  const imap = flowClient(ts.port("imap"), ts.certPem, "alice@example.test", "alice-password");
  const call = async (name: string, args: Json, client = jmapA, accountId = aliceId) => {
    const [[n, r]] = await client.api([[name, { accountId, ...args }, "0"]]);
    return { n, r };
  };
  const state = async () => (await call("Email/get", { ids: [] })).r.state as string;
  try {
    const uid1 = await deliver(ts, alice.id, sampleMessage("first"));
    const uid2 = await deliver(ts, alice.id, sampleMessage("second"));
    const inbox = (await ts.store.getMailbox(alice.id, "INBOX"))!;
    const trash = (await ts.store.getMailbox(alice.id, "Trash"))!;
    const junk = (await ts.store.getMailbox(alice.id, "Junk"))!;
    const [m1, m2] = await ts.store.getMessages(inbox.id, [uid1, uid2]);
    const id1 = `e${m1.blobId}`;
    const id2 = `e${m2.blobId}`;
    await imap.connect();

    await t.step("a flag set over IMAP is an update in Email/changes; maxChanges", async () => {
      const s0 = await state();
      const lock = await imap.getMailboxLock("INBOX");
      try {
        await imap.messageFlagsAdd(String(uid1), ["\\Seen"], { uid: true });
        await imap.messageFlagsAdd(String(uid2), ["\\Flagged"], { uid: true });
      } finally {
        lock.release();
      }
      const { n, r } = await call("Email/changes", { sinceState: s0 });
      assert.equal(n, "Email/changes", JSON.stringify(r));
      assert.deepEqual([r.created, r.updated.sort(), r.destroyed], [[], [id1, id2].sort(), []]);
      const page = (await call("Email/changes", { sinceState: s0, maxChanges: 1 })).r;
      assert.deepEqual([page.updated, page.hasMoreChanges], [[id1], true]);
      const rest = (await call("Email/changes", { sinceState: page.newState, maxChanges: 1 })).r;
      assert.deepEqual([rest.updated, rest.hasMoreChanges, rest.newState], [
        [id2],
        false,
        r.newState,
      ]);
      const mb = (await call("Mailbox/changes", { sinceState: "s0" })).r;
      assert.ok(Array.isArray(mb.updated), JSON.stringify(mb));
      const th = (await call("Thread/changes", { sinceState: s0 })).r;
      assert.deepEqual(th.updated.sort(), [`t${m1.blobId}`, `t${m2.blobId}`].sort());
    });

    await t.step("Email/set keywords: whole and patch, seen by IMAP FETCH FLAGS", async () => {
      const { r } = await call("Email/set", {
        update: {
          [id1]: { "keywords/$seen": null, "keywords/$flagged": true, "keywords/work": true },
          [id2]: { keywords: { $answered: true, $draft: true } },
        },
      });
      assert.deepEqual(Object.keys(r.updated ?? {}).sort(), [id1, id2].sort(), JSON.stringify(r));
      const lock = await imap.getMailboxLock("INBOX");
      try {
        const f1 = await imap.fetchOne(String(uid1), { flags: true }, { uid: true });
        const f2 = await imap.fetchOne(String(uid2), { flags: true }, { uid: true });
        assert.deepEqual([...(f1 || { flags: new Set<string>() }).flags!].sort(), [
          "\\Flagged",
          "work",
        ]);
        assert.deepEqual([...(f2 || { flags: new Set<string>() }).flags!].sort(), [
          "\\Answered",
          "\\Draft",
        ]);
      } finally {
        lock.release();
      }
      const bad = (await call("Email/set", { update: { [id1]: { "keywords/a(b": true } } })).r;
      assert.equal(bad.notUpdated[id1].type, "invalidProperties");
      const ro = (await call("Email/set", { update: { [id1]: { subject: "x" } } })).r;
      assert.equal(ro.notUpdated[id1].type, "invalidProperties");
    });

    await t.step("an IDLE-ing imapflow client sees a JMAP Email/set", async () => {
      const lock = await imap.getMailboxLock("INBOX");
      try {
        const idling = imap.idle();
        for (let i = 0; i < 200 && !imap.idling; i++) await new Promise((r) => setTimeout(r, 5));
        const flags = once<{ uid?: number; flags: Set<string> }>(imap, "flags", 3000);
        await call("Email/set", { update: { [id2]: { "keywords/$seen": true } } });
        const ev = await flags;
        assert.ok(ev.flags.has("\\Seen"));
        await imap.noop();
        await idling;
      } finally {
        lock.release();
      }
    });

    await t.step("mailboxIds: move (patch), copy (whole), destroy; changes classify", async () => {
      const s0 = await state();
      const mb0 = (await call("Mailbox/get", { ids: [] })).r.state;
      const { r } = await call("Email/set", {
        update: { [id1]: { [`mailboxIds/m${inbox.id}`]: null, [`mailboxIds/m${trash.id}`]: true } },
      });
      assert.ok(r.updated && id1 in r.updated, JSON.stringify(r));
      assert.deepEqual((await ts.store.listMessages(inbox.id)).map((m) => m.uid), [uid2]);
      const g = (await call("Email/get", { ids: [id1], properties: ["mailboxIds", "keywords"] })).r;
      assert.deepEqual(g.list[0].mailboxIds, { [`m${trash.id}`]: true });
      assert.deepEqual(g.list[0].keywords, { $flagged: true, work: true });
      const c = (await call("Email/changes", { sinceState: s0 })).r;
      assert.deepEqual([c.created, c.updated, c.destroyed], [[], [id1], []]);
      const mc = (await call("Mailbox/changes", { sinceState: mb0 })).r;
      assert.deepEqual(mc.updated.sort(), [`m${inbox.id}`, `m${trash.id}`].sort());
      assert.deepEqual(mc.updatedProperties?.includes("totalEmails"), true);
      const both = (await call("Email/set", {
        update: { [id2]: { mailboxIds: { [`m${inbox.id}`]: true, [`m${trash.id}`]: true } } },
      })).r;
      assert.ok(both.updated, JSON.stringify(both));
      assert.equal((await ts.store.listMessages(trash.id)).length, 2);
      const none = (await call("Email/set", { update: { [id2]: { mailboxIds: {} } } })).r;
      assert.equal(none.notUpdated[id2].type, "invalidProperties");
      const s1 = await state();
      const d = (await call("Email/set", { destroy: [id1, "e999999"] })).r;
      assert.deepEqual([d.destroyed, d.notDestroyed.e999999.type], [[id1], "notFound"]);
      assert.equal((await ts.store.listMessages(trash.id)).length, 1);
      const dc = (await call("Email/changes", { sinceState: s1 })).r;
      assert.deepEqual([dc.created, dc.updated, dc.destroyed], [[], [], [id1]]);
    });

    let createdId = "";
    await t.step("create from textBody/htmlBody/attachments; import from an upload", async () => {
      const s0 = await state();
      const up = await jmapA.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        headers: { "content-type": "application/pdf" },
        body: enc.encode("%PDF-1.4 fake"),
      });
      assert.equal(up.status, 201);
      const { blobId } = await up.json();
      const { n, r } = await call("Email/set", {
        create: {
          k1: {
            mailboxIds: { [`m${inbox.id}`]: true },
            keywords: { $draft: true, $seen: true },
            from: [{ name: "Alice Ä", email: "alice@example.test" }],
            to: [{ email: "bob@example.test" }],
            subject: "Grüße",
            textBody: [{ partId: "t", type: "text/plain" }],
            htmlBody: [{ partId: "h", type: "text/html" }],
            attachments: [{ blobId, type: "application/pdf", name: "r.pdf" }],
            bodyValues: { t: { value: "Hallo Bob,\nbis bald." }, h: { value: "<p>Hallo</p>" } },
          },
          k2: { mailboxIds: { [`m${inbox.id}`]: true }, attachments: [{ blobId: "u999999" }] },
          k3: { mailboxIds: { m999999: true } },
        },
      });
      assert.equal(n, "Email/set", JSON.stringify(r));
      assert.ok(r.created?.k1?.id, JSON.stringify(r));
      assert.equal(r.notCreated.k2.type, "blobNotFound");
      assert.equal(r.notCreated.k3.type, "invalidProperties");
      createdId = r.created.k1.id;
      const g = (await call("Email/get", {
        ids: [createdId],
        properties: [
          "subject",
          "from",
          "keywords",
          "textBody",
          "htmlBody",
          "attachments",
          "bodyValues",
        ],
        fetchTextBodyValues: true,
      })).r.list[0];
      assert.equal(g.subject, "Grüße");
      assert.deepEqual(g.from, [{ name: "Alice Ä", email: "alice@example.test" }]);
      assert.deepEqual(g.keywords, { $draft: true, $seen: true });
      assert.equal(g.textBody[0].type, "text/plain");
      assert.equal(g.htmlBody[0].type, "text/html");
      assert.deepEqual([g.attachments[0].type, g.attachments[0].name], [
        "application/pdf",
        "r.pdf",
      ]);
      assert.equal(
        Object.values(g.bodyValues as Record<string, Json>)[0].value,
        "Hallo Bob,\r\nbis bald.",
      );
      const c = (await call("Email/changes", { sinceState: s0 })).r;
      assert.deepEqual(c.created, [createdId]);

      const raw = await jmapA.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        headers: { "content-type": "message/rfc822" },
        body: sampleMessage("imported") as Uint8Array<ArrayBuffer>,
      });
      const rawBlob = (await raw.json()).blobId;
      const junk = await jmapA.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new TextEncoder().encode("this is not an email"),
      });
      const junkBlob = (await junk.json()).blobId;
      const imp = (await call("Email/import", {
        emails: {
          i1: {
            blobId: rawBlob,
            mailboxIds: { [`m${inbox.id}`]: true },
            keywords: { $seen: true },
          },
          i2: { blobId: "u999999", mailboxIds: { [`m${inbox.id}`]: true } },
          i3: { blobId: junkBlob, mailboxIds: { [`m${inbox.id}`]: true } },
        },
      })).r;
      assert.ok(imp.created?.i1?.id, JSON.stringify(imp));
      assert.equal(imp.notCreated.i3.type, "invalidEmail", "no header fields: not a message");
      // RFC 8621 §4.8: an unknown blobId is invalidProperties.
      assert.deepEqual(imp.notCreated.i2, {
        type: "invalidProperties",
        description: "blob not found",
        properties: ["blobId"],
      });
      const mismatch = await call("Email/set", { ifInState: s0, update: {} });
      assert.deepEqual([mismatch.n, mismatch.r.type], ["error", "stateMismatch"]);
      const ok = await call("Email/set", { ifInState: await state(), update: {} });
      assert.equal(ok.n, "Email/set");
    });

    await t.step("Email/copy, Email/parse, Blob/copy within the account", async () => {
      const { n, r } = await call("Email/copy", {
        fromAccountId: aliceId,
        create: {
          c1: { id: createdId, mailboxIds: { [`m${trash.id}`]: true } },
          c2: { id: "e999999", mailboxIds: { [`m${trash.id}`]: true } },
        },
      });
      assert.equal(n, "Email/copy", JSON.stringify(r));
      assert.ok(r.created.c1.id && r.created.c1.id !== createdId);
      assert.equal(r.notCreated.c2.type, "notFound");
      const g = (await call("Email/get", {
        ids: [r.created.c1.id],
        properties: ["subject", "keywords", "mailboxIds"],
      })).r.list[0];
      assert.deepEqual([g.subject, g.keywords], ["Grüße", { $draft: true, $seen: true }]);
      const other = await call("Email/copy", { fromAccountId: bobId, create: {} });
      assert.deepEqual([other.n, other.r.type], ["error", "fromAccountNotFound"]);

      const blobId = (await call("Email/get", { ids: [createdId], properties: ["blobId"] })).r
        .list[0].blobId;
      const up = await jmapA.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        headers: { "content-type": "message/rfc822" },
        body: sampleMessage("parse me") as Uint8Array<ArrayBuffer>,
      });
      const upId = (await up.json()).blobId;
      const p = (await call("Email/parse", {
        blobIds: [blobId, upId, "b999999"],
        properties: ["subject", "textBody", "size"],
      })).r;
      assert.equal(p.parsed[blobId].subject, "Grüße");
      assert.equal(p.parsed[upId].subject, "parse me");
      assert.deepEqual(p.notFound, ["b999999"]);
      const bc = (await call("Blob/copy", { fromAccountId: aliceId, blobIds: [upId, "u999999"] }))
        .r;
      assert.deepEqual([bc.copied[upId], bc.notCopied.u999999.type], [upId, "blobNotFound"]);
      const asBob = (await call("Email/parse", { blobIds: [blobId] }, jmapB, bobId)).r;
      assert.deepEqual(asBob.notFound, [blobId], "another account's blob is not found");
    });

    await t.step(
      "Email/parse: parts of an upload or an attached message can be downloaded",
      async () => {
        const attached = [
          "From: inner@x.test",
          "Subject: inner",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="i"',
          "",
          "--i",
          "Content-Type: text/plain",
          "",
          "inner text",
          "--i",
          'Content-Type: application/octet-stream; name="a.bin"',
          "Content-Transfer-Encoding: base64",
          "",
          btoa("inner attachment"),
          "--i--",
          "",
        ].join("\r\n");
        const outer = [
          "From: outer@x.test",
          "Subject: outer",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="o"',
          "",
          "--o",
          "Content-Type: text/plain",
          "",
          "see attached",
          "--o",
          "Content-Type: message/rfc822",
          "",
          attached,
          "--o--",
          "",
        ].join("\r\n");
        const bytes = new TextEncoder().encode(outer);
        const download = async (blobId: string) => {
          const res = await jmapA.fetch(`/jmap/download/${aliceId}/${blobId}/x`);
          assert.equal(res.status, 200, blobId);
          return await res.text();
        };
        // An upload: its parts get `q` ids (before, null: nothing to download).
        const up = await jmapA.fetch(`/jmap/upload/${aliceId}/`, {
          method: "POST",
          headers: { "content-type": "message/rfc822" },
          body: new TextEncoder().encode(attached) as Uint8Array<ArrayBuffer>,
        });
        const upId = (await up.json()).blobId;
        const fromUpload = (await call("Email/parse", {
          blobIds: [upId],
          properties: ["attachments"],
        })).r.parsed[upId];
        assert.match(fromUpload.attachments[0].blobId, /^q/);
        assert.equal(await download(fromUpload.attachments[0].blobId), "inner attachment");
        // A stored message's attached message, parsed by its part blob id: its parts too.
        await ts.store.deliver(bytes, [{ accountId: alice.id, mailbox: "INBOX" }]);
        const [[, q]] = await jmapA.api([["Email/query", {
          accountId: aliceId,
          filter: { subject: "outer" },
        }, "0"]]);
        const got = (await call("Email/get", { ids: q.ids, properties: ["attachments"] })).r;
        const rfc822 = got.list[0].attachments[0];
        assert.equal(rfc822.type, "message/rfc822");
        const inner = (await call("Email/parse", {
          blobIds: [rfc822.blobId],
          properties: ["subject", "attachments"],
        })).r.parsed[rfc822.blobId];
        assert.equal(inner.subject, "inner");
        assert.equal(inner.attachments[0].blobId, `${rfc822.blobId}_2`);
        assert.equal(await download(inner.attachments[0].blobId), "inner attachment");
      },
    );

    await t.step("overQuota and tooLarge are per-item SetErrors", async () => {
      await ts.store.setQuota("alice@example.test", 1);
      const { r } = await call("Email/set", {
        create: { q: { mailboxIds: { [`m${inbox.id}`]: true }, subject: "over" } },
      });
      assert.equal(r.notCreated.q.type, "overQuota", JSON.stringify(r));
      await ts.store.setQuota("alice@example.test", null);
      const big = (await call("Email/set", {
        create: {
          b: {
            mailboxIds: { [`m${inbox.id}`]: true },
            textBody: [{ partId: "1" }],
            bodyValues: { "1": { value: "x".repeat(ts.config.limits.maxMessageBytes + 10) } },
          },
        },
      })).r;
      assert.equal(big.notCreated?.b?.type, "tooLarge", JSON.stringify(big).slice(0, 200));
    });

    await t.step("a move into Junk through Email/set is a MOVE (Junk gets the copy)", async () => {
      const r = (await call("Email/set", {
        update: { [createdId]: { mailboxIds: { [`m${junk.id}`]: true } } },
      })).r;
      assert.ok(r.updated, JSON.stringify(r));
      assert.equal((await ts.store.listMessages(junk.id)).length, 1);
    });

    await t.step("another account's ids are refused for every write", async () => {
      const asBob = await call("Email/set", { update: { [id2]: { keywords: {} } } }, jmapB);
      assert.deepEqual([asBob.n, asBob.r.type], ["error", "accountNotFound"]);
      const [[, own]] = await jmapB.api([["Email/set", {
        accountId: bobId,
        update: { [id2]: { keywords: {} } },
        destroy: [id2],
        create: { c: { mailboxIds: { [`m${inbox.id}`]: true } } },
      }, "0"]]);
      assert.equal(own.notUpdated[id2].type, "notFound");
      assert.equal(own.notDestroyed[id2].type, "notFound");
      assert.equal(own.notCreated.c.type, "invalidProperties");
      const [[, imp]] = await jmapB.api([["Email/import", {
        accountId: bobId,
        emails: { x: { blobId: `b${m2.blobId}`, mailboxIds: {} } },
      }, "0"]]);
      assert.equal(imp.notCreated.x.type, "invalidProperties");
      const still = await ts.store.getMessages(inbox.id, [uid2]);
      assert.equal(still.length, 1, "alice's message untouched");
    });
  } finally {
    await imap.logout().catch(() => {});
    await ts.stop();
  }
});

Deno.test("jmap write: Mailbox/set create, rename/move, destroy; Mailbox/changes", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  const alice = await ts.addUser("alice@example.test", "alice-password");
  const bob = await ts.addUser("bob@example.test", "bob-password");
  const aliceId = `a${alice.id}`;
  const base = `http://127.0.0.1:${ts.port("http")}`;
  const jmapA = new JmapClient(base, basic("alice@example.test", "alice-password"));
  const jmapB = new JmapClient(base, basic("bob@example.test", "bob-password"));
  const call = async (name: string, args: Json, client = jmapA, accountId = aliceId) => {
    const [[n, r]] = await client.api([[name, { accountId, ...args }, "0"]]);
    return { n, r };
  };
  try {
    const inbox = (await ts.store.getMailbox(alice.id, "INBOX"))!;
    const s0 = (await call("Mailbox/get", { ids: [] })).r.state;
    let projects = "";
    let work = "";
    await t.step("create a parent and a child (#ref), with a role", async () => {
      const { n, r } = await call("Mailbox/set", {
        create: {
          p: { name: "Projects" },
          w: { name: "Work", parentId: "#p" },
          a: { name: "Archive", role: "archive" },
          dup: { name: "Trash2", role: "trash" },
          slash: { name: "a/b" },
        },
      });
      assert.equal(n, "Mailbox/set", JSON.stringify(r));
      projects = r.created.p.id;
      work = r.created.w.id;
      assert.equal(r.created.w.parentId, undefined, "given properties are not echoed");
      assert.equal(r.created.p.totalEmails, 0);
      assert.deepEqual([r.notCreated.dup.type, r.notCreated.slash.type], [
        "invalidProperties",
        "invalidProperties",
      ]);
      assert.ok(await ts.store.getMailbox(alice.id, "Projects/Work"));
      assert.equal((await ts.store.getMailbox(alice.id, "Archive"))!.specialUse, "\\Archive");
      // A sibling's name: alreadyExists naming the sibling (RFC 8620 §5.4), create or rename.
      const twice = (await call("Mailbox/set", {
        create: { again: { name: "Work", parentId: projects } },
        update: { [r.created.a.id]: { name: "Projects" } },
      })).r;
      assert.deepEqual(twice.notCreated.again, {
        type: "alreadyExists",
        description: "a sibling has that name",
        properties: ["name"],
        existingId: work,
      });
      assert.equal(twice.notUpdated[r.created.a.id].type, "alreadyExists");
      assert.equal(twice.notUpdated[r.created.a.id].existingId, projects);
      const c = (await call("Mailbox/changes", { sinceState: s0 })).r;
      assert.equal(c.created.length, 3);
    });

    await t.step("rename and move by parentId; INBOX stays", async () => {
      const s1 = (await call("Mailbox/get", { ids: [] })).r.state;
      const { r } = await call("Mailbox/set", {
        update: {
          [projects]: { name: "Clients" },
          [`m${inbox.id}`]: { name: "Other" },
        },
      });
      assert.ok(r.updated && projects in r.updated, JSON.stringify(r));
      assert.equal(r.notUpdated[`m${inbox.id}`].type, "forbidden");
      assert.ok(await ts.store.getMailbox(alice.id, "Clients/Work"), "inferiors follow");
      const moved = (await call("Mailbox/set", { update: { [work]: { parentId: null } } })).r;
      assert.ok(moved.updated, JSON.stringify(moved));
      const g = (await call("Mailbox/get", { ids: [work] })).r.list[0];
      assert.deepEqual([g.name, g.parentId], ["Work", null]);
      const roles = (await call("Mailbox/set", {
        update: { [projects]: { role: "drafts" }, [work]: { role: "all" } },
      })).r;
      assert.equal(roles.notUpdated[projects].type, "invalidProperties", "Drafts has the role");
      assert.ok(roles.updated && work in roles.updated, JSON.stringify(roles));
      assert.equal((await ts.store.getMailboxById(Number(work.slice(1))))!.specialUse, "\\All");
      const c = (await call("Mailbox/changes", { sinceState: s1 })).r;
      assert.ok(c.updated.includes(projects) && c.updated.includes(work), JSON.stringify(c));
      assert.equal(c.updatedProperties, null);

      // sortOrder is stored (RFC 8621 §2.1), moves the state and is validated.
      const s2 = (await call("Mailbox/get", { ids: [] })).r.state;
      const so = (await call("Mailbox/set", {
        update: { [work]: { sortOrder: 99 }, [projects]: { sortOrder: -1 } },
      })).r;
      assert.ok(so.updated && work in so.updated, JSON.stringify(so));
      assert.equal(so.notUpdated[projects].type, "invalidProperties");
      const got = (await call("Mailbox/get", { ids: [work, projects] })).r.list;
      assert.deepEqual(got.map((m: Json) => m.sortOrder), [99, 10]);
      assert.deepEqual((await call("Mailbox/changes", { sinceState: s2 })).r.updated, [work]);
    });

    await t.step("destroy: mailboxHasEmail, onDestroyRemoveEmails, forbidden INBOX", async () => {
      await ts.store.deliver(sampleMessage("in work"), [{
        accountId: alice.id,
        mailbox: "Work",
      }]);
      const s2 = (await call("Email/get", { ids: [] })).r.state;
      const r1 = (await call("Mailbox/set", { destroy: [work, `m${inbox.id}`] })).r;
      assert.equal(r1.notDestroyed[work].type, "mailboxHasEmail");
      assert.equal(r1.notDestroyed[`m${inbox.id}`].type, "forbidden");
      const r2 = (await call("Mailbox/set", { destroy: [work], onDestroyRemoveEmails: true })).r;
      assert.deepEqual(r2.destroyed, [work]);
      const ec = (await call("Email/changes", { sinceState: s2 })).r;
      assert.equal(ec.destroyed.length, 1, JSON.stringify(ec));
      const st = (await call("Mailbox/get", { ids: [] })).r.state;
      const mismatch = await call("Mailbox/set", { ifInState: s0, destroy: [projects] });
      assert.deepEqual([mismatch.n, mismatch.r.type], ["error", "stateMismatch"]);
      assert.equal((await call("Mailbox/set", { ifInState: st })).n, "Mailbox/set");
    });

    await t.step("one request: Mailbox/set create, then Email/set into #it", async () => {
      const [[n1, r1], [n2, r2]] = await jmapA.api([
        ["Mailbox/set", { accountId: aliceId, create: { box: { name: "Fresh" } } }, "0"],
        ["Email/set", {
          accountId: aliceId,
          create: { mail: { mailboxIds: { "#box": true }, subject: "into fresh" } },
        }, "1"],
      ]);
      assert.deepEqual([n1, n2], ["Mailbox/set", "Email/set"], JSON.stringify(r2));
      assert.ok(r2.created?.mail, JSON.stringify(r2));
      const fresh = (await ts.store.getMailbox(alice.id, "Fresh"))!;
      assert.equal(`m${fresh.id}`, r1.created.box.id);
      assert.equal((await ts.store.listMessages(fresh.id)).length, 1);
    });

    await t.step("another account's mailboxes are not found", async () => {
      const own = (await call(
        "Mailbox/set",
        {
          update: { [projects]: { name: "Stolen" } },
          destroy: [projects],
          create: { c: { name: "X", parentId: projects } },
        },
        jmapB,
        `a${bob.id}`,
      )).r;
      assert.equal(own.notUpdated[projects].type, "notFound");
      assert.equal(own.notDestroyed[projects].type, "notFound");
      assert.equal(own.notCreated.c.type, "invalidProperties");
      const other = await call("Mailbox/set", { destroy: [projects] }, jmapB);
      assert.deepEqual([other.n, other.r.type], ["error", "accountNotFound"]);
      assert.ok(await ts.store.getMailbox(alice.id, "Clients"));
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("jmap write: plugins see create (deliver) and Junk moves (mailbox_move)", async (t) => {
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    plugins: [{ name: "life", module: new URL("lifecycle.ts", PLUGIN_FIX).pathname }],
  });
  const alice = await ts.addUser("alice@example.test", "alice-password");
  const aliceId = `a${alice.id}`;
  const jmapA = new JmapClient(
    `http://127.0.0.1:${ts.port("http")}`,
    basic("alice@example.test", "alice-password"),
  );
  const call = async (name: string, args: Json) => {
    const [[n, r]] = await jmapA.api([[name, { accountId: aliceId, ...args }, "0"]]);
    return { n, r };
  };
  const lifeKv = (key: string) => ts.store.kvGet("plugin:life", key);
  try {
    const sent = (await ts.store.getMailbox(alice.id, "Sent"))!;
    const junk = (await ts.store.getMailbox(alice.id, "Junk"))!;
    const inbox = (await ts.store.getMailbox(alice.id, "INBOX"))!;
    await t.step(
      "Email/set create into Sent runs the deliver hook (the copy is sealed)",
      async () => {
        const { r } = await call("Email/set", {
          create: {
            s: {
              mailboxIds: { [`m${sent.id}`]: true },
              subject: "to seal",
              textBody: [{ partId: "1" }],
              bodyValues: { "1": { value: "secret" } },
            },
          },
        });
        assert.ok(r.created?.s, JSON.stringify(r));
        const [m] = await ts.store.listMessages(sent.id);
        const text = new TextDecoder().decode(await ts.store.readBlob(m.blobId));
        assert.ok(text.startsWith("X-Sealed: for alice@example.test"), text.slice(0, 80));
      },
    );
    await t.step("a move into Junk and out again teaches junk, then ham", async () => {
      const uid = await deliver(ts, alice.id, sampleMessage("cheap watches"));
      const [m] = await ts.store.getMessages(inbox.id, [uid]);
      const id = `e${m.blobId}`;
      await call("Email/set", { update: { [id]: { mailboxIds: { [`m${junk.id}`]: true } } } });
      const j = await until("junk", () => lifeKv("move:junk:cheap watches"));
      assert.match(j, /alice@example.test INBOX->Junk move/);
      await call("Email/set", { update: { [id]: { mailboxIds: { [`m${inbox.id}`]: true } } } });
      const h = await until("ham", () => lifeKv("move:ham:cheap watches"));
      assert.match(h, /Junk->INBOX move/);
      const uid2 = await deliver(ts, alice.id, sampleMessage("marked"));
      const [m2] = await ts.store.getMessages(inbox.id, [uid2]);
      await call("Email/set", { update: { [`e${m2.blobId}`]: { "keywords/$junk": true } } });
      const k = await until("keyword", () => lifeKv("move:junk:marked"));
      assert.match(k, /INBOX->INBOX store/);
    });
  } finally {
    await ts.stop();
  }
});
