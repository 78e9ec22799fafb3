/**
 * The Store conformance suite: one set of checks every backend must pass, run from each
 * backend's test file:
 *
 * ```ts
 * Deno.test("sqlite store", (t) => runStoreConformance(t, makeStore));
 * ```
 *
 * Every step gets a fresh, empty store. The checks cover every Store method and every
 * invariant stated at the top of `mod.ts`; where behaviour comes from an RFC the step says
 * which.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DEFAULT_MAILBOXES,
  type MailboxChange,
  type MessageMeta,
  type Store,
  StoreError,
} from "../../storage/mod.ts";

/** A fresh store for one step. */
export interface StoreFixture {
  store: Store;
  /** Closes the store (whichever `reopen` returned last) and removes its data. */
  cleanup(): Promise<void>;
  /** Optional: closes the store and opens the same data again (persistence checks). */
  reopen?(): Promise<Store>;
}

const enc = new TextEncoder();

/** A small RFC 5322 message. */
function message(n: number, body = "Hello"): Uint8Array {
  return enc.encode(
    `From: a@example.test\r\nTo: b@example.test\r\nSubject: test ${n}\r\n` +
      `Message-ID: <${n}@example.test>\r\n\r\n${body} ${n}\r\n`,
  );
}

/** Asserts that `p` rejects with a StoreError of the given code. */
async function rejectsWith(p: Promise<unknown>, code: StoreError["code"]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError(${code}), got ${e}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

/** Collects change events until `until` matches one; fails after a generous timeout. */
function waitForChange(
  store: Store,
  until: (c: MailboxChange) => boolean,
): Promise<MailboxChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      store.changes.removeEventListener("change", listener);
      reject(new Error("timed out waiting for a change event"));
    }, 10_000);
    const listener = (e: Event) => {
      const c = (e as CustomEvent<MailboxChange>).detail;
      if (until(c)) {
        clearTimeout(timer);
        store.changes.removeEventListener("change", listener);
        resolve(c);
      }
    };
    store.changes.addEventListener("change", listener);
  });
}

function uids(ms: MessageMeta[]): number[] {
  return ms.map((m) => m.uid);
}

/**
 * Runs the whole suite as `t.step`s. `makeStore` gives a fresh empty store per step.
 */
export async function runStoreConformance(
  t: Deno.TestContext,
  makeStore: () => Promise<StoreFixture>,
): Promise<void> {
  const step = (name: string, fn: (store: Store, fx: StoreFixture) => Promise<void>) =>
    t.step(name, async () => {
      const fx = await makeStore();
      try {
        await fn(fx.store, fx);
      } finally {
        await fx.cleanup();
      }
    });

  /** An account and its INBOX. */
  async function user(store: Store, email = "alice@example.test") {
    const account = await store.createAccount(email, "hash");
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    return { account, inbox };
  }

  await step("domains: add, list, has, remove; lower-case; errors", async (store) => {
    await store.addDomain("Example.TEST");
    await store.addDomain("b.test");
    assert.equal(await store.hasDomain("EXAMPLE.test"), true);
    assert.equal(await store.hasDomain("nope.test"), false);
    const list = await store.listDomains();
    assert.deepEqual(list.map((d) => d.name).sort(), ["b.test", "example.test"]);
    assert.ok(list.every((d) => typeof d.createdAt === "number" && d.createdAt > 0));
    await rejectsWith(store.addDomain("EXAMPLE.test"), "exists");
    await store.createAccount("bob@b.test", "h");
    await rejectsWith(store.removeDomain("B.test"), "in_use");
    await store.removeDomain("example.test");
    assert.equal(await store.hasDomain("example.test"), false);
    await rejectsWith(store.removeDomain("example.test"), "not_found");
    await store.removeAccount("bob@b.test");
    await store.removeDomain("b.test");
    assert.deepEqual(await store.listDomains(), []);
  });

  await step("accounts: create (domain + default mailboxes), get, list, update, remove", async (
    store,
  ) => {
    const acc = await store.createAccount("Alice@Example.TEST", "hash1");
    assert.equal(acc.email, "alice@example.test");
    assert.equal(acc.passwordHash, "hash1");
    assert.equal(acc.quotaBytes, null);
    assert.ok(acc.createdAt > 0);
    assert.equal(await store.hasDomain("example.test"), true, "domain created with the account");
    await rejectsWith(store.createAccount("ALICE@example.test", "x"), "exists");
    await rejectsWith(store.createAccount("not-an-address", "x"), "invalid");

    assert.deepEqual(await store.getAccount("aLiCe@EXAMPLE.test"), acc);
    assert.deepEqual(await store.getAccountById(acc.id), acc);
    assert.equal(await store.getAccount("nobody@example.test"), null);
    assert.equal(await store.getAccountById(acc.id + 1000), null);

    const boxes = await store.listMailboxes(acc.id);
    assert.deepEqual(
      boxes.map((b) => [b.name, b.specialUse]).sort(),
      [...DEFAULT_MAILBOXES].map(([n, u]) => [n, u]).sort(),
    );
    for (const b of boxes) {
      assert.equal(b.accountId, acc.id);
      assert.equal(b.uidNext, 1);
      assert.ok(b.uidValidity > 0 && b.uidValidity < 2 ** 32, "UIDVALIDITY is a 32-bit nz");
      assert.ok(b.highestModseq >= 1, "RFC 7162 §3.1.2.1: HIGHESTMODSEQ is non-zero");
    }
    assert.equal(
      new Set(boxes.map((b) => b.uidValidity)).size,
      boxes.length,
      "each mailbox gets its own UIDVALIDITY",
    );

    await store.setPasswordHash("ALICE@example.test", "hash2");
    assert.equal((await store.getAccount("alice@example.test"))!.passwordHash, "hash2");
    await rejectsWith(store.setPasswordHash("nobody@example.test", "h"), "not_found");

    await store.setQuota("alice@example.test", 5000);
    assert.equal((await store.getAccountById(acc.id))!.quotaBytes, 5000);
    await store.setQuota("alice@example.test", null);
    assert.equal((await store.getAccountById(acc.id))!.quotaBytes, null);
    await rejectsWith(store.setQuota("nobody@example.test", 1), "not_found");

    const bob = await store.createAccount("bob@other.test", "h");
    assert.deepEqual(
      (await store.listAccounts()).map((a) => a.email).sort(),
      ["alice@example.test", "bob@other.test"],
    );
    await store.removeAccount("Bob@Other.test");
    assert.equal(await store.getAccountById(bob.id), null);
    assert.deepEqual(await store.listMailboxes(bob.id), []);
    await rejectsWith(store.removeAccount("bob@other.test"), "not_found");
  });

  await step("account removal removes its mailboxes, messages and unshared bytes", async (
    store,
  ) => {
    const a = await user(store, "a@example.test");
    const b = await user(store, "b@example.test");
    const own = await store.deliver(message(1), [{ accountId: a.account.id, mailbox: "INBOX" }]);
    const shared = await store.deliver(message(2), [
      { accountId: a.account.id, mailbox: "INBOX" },
      { accountId: b.account.id, mailbox: "INBOX" },
    ]);
    const ownBlob = (await store.getMessages(a.inbox.id, [own[0].uid]))[0].blobId;
    const sharedBlob = (await store.getMessages(b.inbox.id, [shared[1].uid]))[0].blobId;
    const queued = await store.enqueue(message(3), {
      sender: "a@example.test",
      recipients: [{ address: "x@remote.test", status: "pending" }],
      nextAttemptAt: 0,
      meta: {},
    });
    await store.removeAccount("a@example.test");
    assert.equal(await store.getMailboxById(a.inbox.id), null);
    assert.deepEqual(await store.listMessages(a.inbox.id), []);
    await rejectsWith(store.readBlob(ownBlob), "not_found");
    assert.deepEqual(await store.readBlob(sharedBlob), message(2), "b still has its copy");
    assert.deepEqual(await store.readBlob(queued.blobId), message(3), "queue keeps its bytes");
    assert.equal((await store.mailboxStatus(b.inbox.id)).messages, 1);
  });

  await step("aliases: set, get, list, replace, remove; catch-all; lower-case", async (store) => {
    await store.setAlias("Info@Example.test", ["Alice@Example.test", "bob@example.test"]);
    await store.setAlias("@Example.test", ["alice@example.test"]);
    assert.deepEqual(await store.getAlias("INFO@example.TEST"), [
      "alice@example.test",
      "bob@example.test",
    ]);
    assert.deepEqual(await store.getAlias("@example.test"), ["alice@example.test"]);
    assert.equal(await store.getAlias("nobody@example.test"), null);
    await store.setAlias("info@example.test", ["carol@example.test"]);
    assert.deepEqual(await store.getAlias("info@example.test"), ["carol@example.test"]);
    assert.deepEqual(
      (await store.listAliases()).sort((x, y) => x.source.localeCompare(y.source)),
      [
        { source: "@example.test", targets: ["alice@example.test"] },
        { source: "info@example.test", targets: ["carol@example.test"] },
      ],
    );
    await store.removeAlias("INFO@example.test");
    assert.equal(await store.getAlias("info@example.test"), null);
    await rejectsWith(store.removeAlias("info@example.test"), "not_found");
  });

  await step("mailboxes: create, get (INBOX any case, others case-sensitive), list", async (
    store,
  ) => {
    const { account, inbox } = await user(store);
    // RFC 9051 §5.1: INBOX is case-insensitive; other names are case-sensitive.
    assert.equal((await store.getMailbox(account.id, "inbox"))!.id, inbox.id);
    assert.equal((await store.getMailbox(account.id, "InBoX"))!.name, "INBOX");
    await rejectsWith(store.createMailbox(account.id, "Inbox"), "exists");
    const foo = await store.createMailbox(account.id, "Foo");
    const foo2 = await store.createMailbox(account.id, "foo");
    assert.notEqual(foo.id, foo2.id);
    assert.equal(foo.name, "Foo");
    assert.equal(foo.specialUse, null);
    assert.equal(foo.uidNext, 1);
    await rejectsWith(store.createMailbox(account.id, "Foo"), "exists");
    const arch = await store.createMailbox(account.id, "Foo/Archive 2024", "\\Archive");
    assert.equal(arch.specialUse, "\\Archive");
    assert.deepEqual(await store.getMailboxById(arch.id), arch);
    assert.deepEqual(await store.getMailbox(account.id, "Foo/Archive 2024"), arch);
    assert.equal(await store.getMailbox(account.id, "FOO"), null);
    assert.equal(await store.getMailboxById(999_999), null);
    const names = (await store.listMailboxes(account.id)).map((m) => m.name);
    for (const n of ["INBOX", "Foo", "foo", "Foo/Archive 2024"]) assert.ok(names.includes(n));
    assert.equal(new Set([foo.uidValidity, foo2.uidValidity, arch.uidValidity]).size, 3);
    await rejectsWith(store.createMailbox(account.id, ""), "invalid");
    await rejectsWith(store.createMailbox(account.id, "a//b"), "invalid");
    await rejectsWith(store.createMailbox(account.id + 1000, "X"), "not_found");
    // Mailboxes belong to one account.
    const other = await store.createAccount("other@example.test", "h");
    assert.equal(await store.getMailbox(other.id, "Foo"), null);
    assert.ok(await store.createMailbox(other.id, "Foo"));
  });

  await step("deleteMailbox: removes it and its messages; INBOX cannot; new UIDVALIDITY", async (
    store,
  ) => {
    const { account, inbox } = await user(store);
    const box = await store.createMailbox(account.id, "Work");
    const child = await store.createMailbox(account.id, "Work/Old");
    const p = await store.append(box.id, message(1));
    const blobId = (await store.getMessages(box.id, [p.uid]))[0].blobId;
    await store.deleteMailbox(box.id);
    assert.equal(await store.getMailboxById(box.id), null);
    assert.equal(await store.getMailbox(account.id, "Work"), null);
    assert.deepEqual(await store.listMessages(box.id), []);
    await rejectsWith(store.readBlob(blobId), "not_found");
    // RFC 9051 §6.3.5: inferior names are not deleted with their parent.
    assert.ok(await store.getMailboxById(child.id));
    // RFC 9051 §6.3.5: it is an error to delete INBOX.
    await rejectsWith(store.deleteMailbox(inbox.id), "invalid");
    await rejectsWith(store.deleteMailbox(box.id), "not_found");
    // RFC 9051 §2.3.1.1: a recreated name must not reuse the old UIDVALIDITY.
    const again = await store.createMailbox(account.id, "Work");
    assert.notEqual(again.uidValidity, box.uidValidity);
    const again2 = await store.createMailbox(account.id, "Work2");
    await store.deleteMailbox(again.id);
    const third = await store.createMailbox(account.id, "Work");
    assert.ok(
      ![box.uidValidity, again.uidValidity, again2.uidValidity].includes(third.uidValidity),
    );
  });

  await step(
    "renameMailbox: renames children, keeps messages and UIDVALIDITY (RFC 9051 §6.3.6)",
    async (
      store,
    ) => {
      const { account } = await user(store);
      const a = await store.createMailbox(account.id, "A");
      const ab = await store.createMailbox(account.id, "A/B");
      const abc = await store.createMailbox(account.id, "A/B/C");
      const ax = await store.createMailbox(account.id, "AX"); // not a child: shares a prefix only
      await store.setSubscribed(account.id, "A/B", true);
      const placed = await store.append(ab.id, message(1));
      const changed = waitForChange(store, (c) => c.kind === "mailbox");
      await store.renameMailbox(a.id, "Z");
      await changed;
      assert.equal((await store.getMailboxById(a.id))!.name, "Z");
      assert.equal((await store.getMailboxById(ab.id))!.name, "Z/B");
      assert.equal((await store.getMailboxById(abc.id))!.name, "Z/B/C");
      assert.equal((await store.getMailboxById(ax.id))!.name, "AX");
      assert.equal(await store.getMailbox(account.id, "A/B"), null);
      const zb = (await store.getMailbox(account.id, "Z/B"))!;
      assert.equal(zb.uidValidity, ab.uidValidity);
      assert.deepEqual(uids(await store.listMessages(zb.id)), [placed.uid]);
      // Subscriptions follow the rename.
      const subs = await store.listSubscriptions(account.id);
      assert.ok(subs.includes("Z/B") && !subs.includes("A/B"));
      assert.equal(zb.subscribed, true);

      await rejectsWith(store.renameMailbox(ax.id, "Z/B"), "exists");
      await rejectsWith(store.renameMailbox(ax.id, "INBOX"), "exists");
      await rejectsWith(store.renameMailbox(999_999, "Q"), "not_found");
      // Moving a mailbox up into its parent's name: "Z/B" -> "Z2", then "Z2/C" exists.
      await store.renameMailbox(ab.id, "Z2");
      assert.equal((await store.getMailboxById(abc.id))!.name, "Z2/C");
      // A child may end up with its parent's former name: "P/B" -> "P" makes "P/B/B" "P/B".
      const pb = await store.createMailbox(account.id, "P/B");
      const pbb = await store.createMailbox(account.id, "P/B/B");
      await store.renameMailbox(pb.id, "P");
      assert.equal((await store.getMailboxById(pb.id))!.name, "P");
      assert.equal((await store.getMailboxById(pbb.id))!.name, "P/B");
      // A mailbox cannot become its own inferior.
      await rejectsWith(store.renameMailbox(pb.id, "P/B/X"), "invalid");
    },
  );

  await step(
    "renameMailbox INBOX: moves all messages, leaves INBOX empty (RFC 9051 §6.3.6)",
    async (
      store,
    ) => {
      const { account, inbox } = await user(store);
      const child = await store.createMailbox(account.id, "INBOX/Sub");
      const target = { accountId: account.id, mailbox: "INBOX" };
      const p1 = await store.deliver(message(1), [target]);
      const p2 = await store.deliver(message(2), [target], { internalDate: 1_600_000_000_000 });
      await store.updateFlags({
        mailboxId: inbox.id,
        uids: [p1[0].uid],
        op: "add",
        flags: ["\\Seen"],
      });
      const before = await store.mailboxStatus(inbox.id);

      await store.renameMailbox(inbox.id, "Old Mail");
      const moved = (await store.getMailbox(account.id, "Old Mail"))!;
      assert.notEqual(moved.id, inbox.id);
      assert.notEqual(moved.uidValidity, inbox.uidValidity);
      const movedMsgs = await store.listMessages(moved.id);
      assert.equal(movedMsgs.length, 2);
      assert.deepEqual(movedMsgs.map((m) => m.flags.includes("\\Seen")), [true, false]);
      assert.equal(movedMsgs[1].internalDate, 1_600_000_000_000);
      assert.deepEqual(await store.readBlob(movedMsgs[1].blobId), message(2));
      assert.ok(moved.uidNext > Math.max(...uids(movedMsgs)));

      const inboxNow = (await store.getMailbox(account.id, "INBOX"))!;
      assert.equal(inboxNow.id, inbox.id);
      assert.equal(inboxNow.uidValidity, inbox.uidValidity);
      const st = await store.mailboxStatus(inbox.id);
      assert.equal(st.messages, 0);
      assert.equal(st.unseen, 0);
      assert.equal(st.size, 0);
      assert.ok(st.highestModseq > before.highestModseq);
      // The messages left INBOX: QRESYNC clients learn it as VANISHED (RFC 7162 §3.2.10).
      assert.deepEqual(
        (await store.expungedSince(inbox.id, before.highestModseq)).sort((x, y) => x - y),
        [p1[0].uid, p2[0].uid],
      );
      // INBOX's inferiors are unaffected.
      assert.equal((await store.getMailboxById(child.id))!.name, "INBOX/Sub");
      // UIDs in INBOX are still never reused.
      const p3 = await store.deliver(message(3), [target]);
      assert.equal(p3[0].mailboxId, inbox.id);
      assert.ok(p3[0].uid > p2[0].uid);
      await rejectsWith(store.renameMailbox(inbox.id, "Old Mail"), "exists");
    },
  );

  await step("subscriptions: may name missing mailboxes (RFC 9051 §6.3.9)", async (store) => {
    const { account } = await user(store);
    const defaults = await store.listSubscriptions(account.id);
    await store.setSubscribed(account.id, "Does/Not/Exist", true);
    const box = await store.createMailbox(account.id, "Lists");
    assert.equal(box.subscribed, false);
    await store.setSubscribed(account.id, "Lists", true);
    await store.setSubscribed(account.id, "Lists", true); // idempotent
    assert.equal((await store.getMailboxById(box.id))!.subscribed, true);
    assert.deepEqual(
      (await store.listSubscriptions(account.id)).sort(),
      [...defaults, "Does/Not/Exist", "Lists"].sort(),
    );
    await store.setSubscribed(account.id, "Lists", false);
    await store.setSubscribed(account.id, "Never", false); // unsubscribing a stranger is fine
    assert.equal((await store.getMailboxById(box.id))!.subscribed, false);
    assert.ok(!(await store.listSubscriptions(account.id)).includes("Lists"));
    // Deleting a mailbox does not drop its subscription.
    await store.setSubscribed(account.id, "Lists", true);
    await store.deleteMailbox(box.id);
    assert.ok((await store.listSubscriptions(account.id)).includes("Lists"));
    // INBOX any case is INBOX.
    await store.setSubscribed(account.id, "inbox", false);
    assert.ok(!(await store.listSubscriptions(account.id)).includes("INBOX"));
  });

  await step("deliver: one blob, many mailboxes, INBOX fallback, flags, internal date", async (
    store,
  ) => {
    const a = await user(store, "a@example.test");
    const b = await user(store, "b@example.test");
    const junk = (await store.getMailbox(a.account.id, "Junk"))!;
    const bytes = message(1);
    const placed = await store.deliver(bytes, [
      { accountId: a.account.id, mailbox: "INBOX" },
      { accountId: a.account.id, mailbox: "Junk", flags: ["$Junk", "\\Seen"] },
      { accountId: b.account.id, mailbox: "No Such Folder" },
    ], { internalDate: 1_700_000_000_000 });
    assert.deepEqual(placed, [
      { accountId: a.account.id, mailboxId: a.inbox.id, uid: 1, uidValidity: a.inbox.uidValidity },
      { accountId: a.account.id, mailboxId: junk.id, uid: 1, uidValidity: junk.uidValidity },
      { accountId: b.account.id, mailboxId: b.inbox.id, uid: 1, uidValidity: b.inbox.uidValidity },
    ]);
    const [m1] = await store.listMessages(a.inbox.id);
    const [m2] = await store.listMessages(junk.id);
    const [m3] = await store.listMessages(b.inbox.id);
    assert.equal(m1.blobId, m2.blobId, "one stored copy");
    assert.equal(m1.blobId, m3.blobId, "one stored copy");
    assert.deepEqual(m1.flags, []);
    assert.deepEqual([...m2.flags].sort(), ["$Junk", "\\Seen"]);
    assert.equal(m1.internalDate, 1_700_000_000_000);
    assert.equal(m1.size, bytes.byteLength);
    assert.deepEqual(await store.readBlob(m1.blobId), bytes);
    assert.deepEqual(bytes, message(1), "the caller's bytes are left intact");

    const before = Date.now();
    const [p] = await store.deliver(message(2), [{ accountId: a.account.id, mailbox: "INBOX" }]);
    assert.equal(p.uid, 2);
    const [m] = await store.getMessages(a.inbox.id, [2]);
    assert.ok(m.internalDate >= before - 1000 && m.internalDate <= Date.now() + 1000);
    // A message for no one is a caller's bug, never a silent no-op (it would be acknowledged
    // and lost): delivery and queueing refuse it, and nothing is written.
    await rejectsWith(store.deliver(message(3), []), "invalid");
    await rejectsWith(
      store.enqueue(message(3), { sender: "", recipients: [], nextAttemptAt: 0, meta: {} }),
      "invalid",
    );
    assert.equal((await store.mailboxStatus(a.inbox.id)).messages, 2);
    assert.deepEqual(await store.listQueue(), []);
    await rejectsWith(
      store.deliver(message(4), [{ accountId: 999_999, mailbox: "INBOX" }]),
      "not_found",
    );
  });

  await step("deliver: a target with create makes its missing mailbox (Sieve :create)", async (
    store,
  ) => {
    const a = await user(store, "a@example.test");
    const [p1, p2] = await store.deliver(message(1), [
      { accountId: a.account.id, mailbox: "Lists", create: true, flags: ["$Label1"] },
      { accountId: a.account.id, mailbox: "Other" },
    ]);
    const lists = (await store.getMailbox(a.account.id, "Lists"))!;
    assert.ok(lists, "created");
    assert.equal(p1.mailboxId, lists.id);
    assert.equal(p2.mailboxId, a.inbox.id, "without create: INBOX");
    assert.equal(await store.getMailbox(a.account.id, "Other"), null);
    const [m] = await store.listMessages(lists.id);
    assert.deepEqual(m.flags, ["$Label1"]);
    const [p3] = await store.deliver(message(2), [
      { accountId: a.account.id, mailbox: "Lists", create: true },
    ]);
    assert.equal(p3.mailboxId, lists.id, "an existing mailbox is used");
    assert.equal(p3.uid, 2);
  });

  await step("append, listMessages, getMessages, mailboxStatus", async (store) => {
    const { account, inbox } = await user(store);
    const sizes: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const bytes = message(i, "x".repeat(i * 10));
      sizes.push(bytes.byteLength);
      const p = await store.append(inbox.id, bytes, {
        flags: i % 2 === 0 ? ["\\Seen"] : [],
        internalDate: 1_000_000 * i,
      });
      assert.equal(p.uid, i);
      assert.equal(p.mailboxId, inbox.id);
      assert.equal(p.accountId, account.id);
      assert.equal(p.uidValidity, inbox.uidValidity);
    }
    const all = await store.listMessages(inbox.id);
    assert.deepEqual(uids(all), [1, 2, 3, 4, 5]);
    assert.deepEqual(all.map((m) => m.size), sizes);
    assert.deepEqual(all.map((m) => m.internalDate), [1, 2, 3, 4, 5].map((i) => i * 1_000_000));
    assert.ok(all.every((m) => m.mailboxId === inbox.id && m.modseq > 0));
    assert.deepEqual(uids(await store.getMessages(inbox.id, [5, 1, 3, 99])), [1, 3, 5]);
    assert.deepEqual(await store.getMessages(inbox.id, []), []);
    assert.deepEqual(await store.getMessages(inbox.id, [2]), [all[1]]);

    const st = await store.mailboxStatus(inbox.id);
    assert.equal(st.messages, 5);
    assert.equal(st.unseen, 3);
    assert.equal(st.size, sizes.reduce((a, b) => a + b, 0));
    assert.equal(st.uidNext, 6);
    assert.equal(st.uidValidity, inbox.uidValidity);
    assert.equal(st.highestModseq, Math.max(...all.map((m) => m.modseq)));
    assert.equal(st.firstUnseen, 1);
    await store.updateFlags({ mailboxId: inbox.id, uids: [1, 3], op: "add", flags: ["\\Seen"] });
    await store.expunge(inbox.id, [2]);
    // Left: 1 seen, 3 seen, 4 seen, 5 unseen -> first unseen is sequence number 4.
    const st2 = await store.mailboxStatus(inbox.id);
    assert.equal(st2.unseen, 1);
    assert.equal(st2.firstUnseen, 4);
    await store.updateFlags({ mailboxId: inbox.id, uids: [5], op: "add", flags: ["\\Seen"] });
    assert.equal((await store.mailboxStatus(inbox.id)).firstUnseen, 0);
    const empty = await store.createMailbox(account.id, "Empty");
    const est = await store.mailboxStatus(empty.id);
    assert.deepEqual(
      [est.messages, est.unseen, est.size, est.uidNext, est.firstUnseen],
      [0, 0, 0, 1, 0],
    );
    await rejectsWith(store.mailboxStatus(999_999), "not_found");
    await rejectsWith(store.append(999_999, message(1)), "not_found");
  });

  await step("UIDs strictly increase and are never reused after expunge", async (store) => {
    const { account, inbox } = await user(store);
    const target = [{ accountId: account.id, mailbox: "INBOX" }];
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await store.deliver(message(i), target))[0].uid);
    assert.deepEqual(first, [1, 2, 3]);
    await store.expunge(inbox.id, [3]);
    const [p4] = await store.deliver(message(4), target);
    assert.equal(p4.uid, 4, "UID 3 is not handed out again");
    await store.expunge(inbox.id, [1, 2, 4]);
    const p5 = await store.append(inbox.id, message(5));
    assert.equal(p5.uid, 5);
    const other = await store.createMailbox(account.id, "Other");
    const pairs = await store.copyMessages(inbox.id, [5], other.id);
    await store.expunge(other.id, [pairs[0][1]]);
    const pairs2 = await store.copyMessages(inbox.id, [5], other.id);
    assert.ok(pairs2[0][1] > pairs[0][1]);
    assert.equal((await store.mailboxStatus(inbox.id)).uidNext, 6);
  });

  await step("MODSEQ rises on every change and stamps it (RFC 7162 §3.1)", async (store) => {
    const { inbox } = await user(store);
    const hm = async () => (await store.mailboxStatus(inbox.id)).highestModseq;
    const m0 = await hm();
    const p1 = await store.append(inbox.id, message(1));
    const m1 = await hm();
    assert.ok(m1 > m0, "append raises HIGHESTMODSEQ");
    assert.equal((await store.getMessages(inbox.id, [p1.uid]))[0].modseq, m1);
    const p2 = await store.append(inbox.id, message(2));
    const m2 = await hm();
    assert.ok(m2 > m1);
    const r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [p1.uid],
      op: "add",
      flags: ["\\Flagged"],
    });
    const m3 = await hm();
    assert.ok(m3 > m2, "a flag change raises HIGHESTMODSEQ");
    assert.equal(r.changed[0].modseq, m3);
    assert.equal((await store.getMessages(inbox.id, [p1.uid]))[0].modseq, m3);
    // CONDSTORE CHANGEDSINCE (RFC 7162 §3.1.4.1).
    assert.deepEqual(uids(await store.changedSince(inbox.id, m2)), [p1.uid]);
    assert.deepEqual(uids(await store.changedSince(inbox.id, m1)), [p1.uid, p2.uid]);
    assert.deepEqual(await store.changedSince(inbox.id, m3), []);
    await store.expunge(inbox.id, [p2.uid]);
    const m4 = await hm();
    assert.ok(m4 > m3, "an expunge raises HIGHESTMODSEQ");
    // QRESYNC VANISHED (EARLIER) (RFC 7162 §3.2.10).
    assert.deepEqual(await store.expungedSince(inbox.id, m3), [p2.uid]);
    assert.deepEqual(await store.expungedSince(inbox.id, m4), []);
    assert.deepEqual(await store.expungedSince(inbox.id, 0), [p2.uid]);
    // A STORE that changes nothing need not raise it, but must never lower it.
    await store.updateFlags({
      mailboxId: inbox.id,
      uids: [p1.uid],
      op: "add",
      flags: ["\\Flagged"],
    });
    assert.ok((await hm()) >= m4);
  });

  await step("updateFlags: set / add / remove, keywords, system flag case, missing UIDs", async (
    store,
  ) => {
    const { inbox } = await user(store);
    for (let i = 1; i <= 3; i++) await store.append(inbox.id, message(i));
    const flagsOf = async (uid: number) =>
      [...(await store.getMessages(inbox.id, [uid]))[0].flags].sort();
    let r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [1, 2, 42],
      op: "add",
      flags: ["\\seen", "$Important"],
    });
    assert.deepEqual(uids(r.changed), [1, 2]);
    assert.deepEqual(r.failed, []);
    // System flags are case-insensitive and come back in their canonical spelling.
    assert.deepEqual(await flagsOf(1), ["$Important", "\\Seen"]);
    assert.deepEqual([...r.changed[0].flags].sort(), ["$Important", "\\Seen"]);
    assert.equal((await store.mailboxStatus(inbox.id)).unseen, 1);
    r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [1],
      op: "remove",
      flags: ["\\Seen", "$important"],
    });
    assert.deepEqual(await flagsOf(1), []);
    assert.deepEqual(r.changed[0].flags, []);
    r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [2, 3],
      op: "set",
      flags: ["\\Deleted", "\\Answered"],
    });
    assert.deepEqual(await flagsOf(2), ["\\Answered", "\\Deleted"]);
    assert.deepEqual(await flagsOf(3), ["\\Answered", "\\Deleted"]);
    assert.equal((await store.mailboxStatus(inbox.id)).unseen, 3);
    // Adding flags already present changes nothing.
    r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [2],
      op: "add",
      flags: ["\\Deleted"],
    });
    assert.deepEqual(r.changed, []);
    await rejectsWith(
      store.updateFlags({ mailboxId: 999_999, uids: [1], op: "add", flags: ["\\Seen"] }),
      "not_found",
    );
    await rejectsWith(
      store.updateFlags({ mailboxId: inbox.id, uids: [1], op: "add", flags: ["bad flag"] }),
      "invalid",
    );
  });

  await step("updateFlags UNCHANGEDSINCE (RFC 7162 §3.1.3)", async (store) => {
    const { inbox } = await user(store);
    await store.append(inbox.id, message(1));
    await store.append(inbox.id, message(2));
    const base = (await store.mailboxStatus(inbox.id)).highestModseq;
    await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "add", flags: ["\\Flagged"] });
    const r = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [1, 2],
      op: "add",
      flags: ["\\Seen"],
      unchangedSince: base,
    });
    assert.deepEqual(uids(r.changed), [1]);
    assert.deepEqual(r.failed, [2]);
    assert.deepEqual((await store.getMessages(inbox.id, [2]))[0].flags, ["\\Flagged"]);
    const r2 = await store.updateFlags({
      mailboxId: inbox.id,
      uids: [2],
      op: "add",
      flags: ["\\Seen"],
      unchangedSince: (await store.getMessages(inbox.id, [2]))[0].modseq,
    });
    assert.deepEqual(uids(r2.changed), [2]);
    assert.deepEqual(r2.failed, []);
  });

  await step(
    "updateFlags: keyword case and order, no-op sets, non-ASCII keywords, one modseq",
    async (
      store,
    ) => {
      const { inbox } = await user(store);
      for (let i = 1; i <= 3; i++) await store.append(inbox.id, message(i));
      const flagsOf = async (uid: number) => (await store.getMessages(inbox.id, [uid]))[0].flags;
      const modseq = async () => (await store.mailboxStatus(inbox.id)).highestModseq;
      let r = await store.updateFlags({
        mailboxId: inbox.id,
        uids: [1, 2, 3],
        op: "add",
        flags: ["$B", "$a", "\\Flagged"],
      });
      const m1 = await modseq();
      assert.deepEqual(r.changed.map((m) => m.modseq), [m1, m1, m1]);
      assert.deepEqual(await flagsOf(1), ["$B", "$a", "\\Flagged"]);
      // Keywords compare without regard to case: these change nothing, nor the modseq.
      r = await store.updateFlags({ mailboxId: inbox.id, uids: [1], op: "add", flags: ["$b"] });
      assert.deepEqual(r.changed, []);
      r = await store.updateFlags({
        mailboxId: inbox.id,
        uids: [1],
        op: "set",
        flags: ["\\flagged", "$A", "$b"],
      });
      assert.deepEqual(r.changed, []);
      assert.equal(await modseq(), m1);
      // Adding keeps the order of the flags already there; removing keeps the rest in order.
      await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "add", flags: ["$c", "$B"] });
      assert.deepEqual(await flagsOf(2), ["$B", "$a", "\\Flagged", "$c"]);
      await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "remove", flags: ["$A"] });
      assert.deepEqual(await flagsOf(2), ["$B", "\\Flagged", "$c"]);
      // A keyword with non-ASCII letters, stored and matched as the rest.
      await store.updateFlags({ mailboxId: inbox.id, uids: [3], op: "add", flags: ["$Ünï"] });
      assert.deepEqual(await flagsOf(3), ["$B", "$a", "\\Flagged", "$Ünï"]);
      r = await store.updateFlags({ mailboxId: inbox.id, uids: [3], op: "remove", flags: ["$a"] });
      assert.deepEqual(await flagsOf(3), ["$B", "\\Flagged", "$Ünï"]);
      assert.deepEqual(r.changed[0].flags, ["$B", "\\Flagged", "$Ünï"]);
      r = await store.updateFlags({ mailboxId: inbox.id, uids: [3], op: "set", flags: [] });
      assert.deepEqual(await flagsOf(3), []);
      assert.equal((await store.mailboxStatus(inbox.id)).unseen, 3);
    },
  );

  await step("expunge: removes given UIDs whatever their flags, returns them in order", async (
    store,
  ) => {
    const { inbox } = await user(store);
    for (let i = 1; i <= 5; i++) await store.append(inbox.id, message(i));
    await store.updateFlags({ mailboxId: inbox.id, uids: [2], op: "add", flags: ["\\Deleted"] });
    assert.deepEqual(await store.expunge(inbox.id, [4, 1, 99]), [1, 4]);
    assert.deepEqual(uids(await store.listMessages(inbox.id)), [2, 3, 5]);
    assert.deepEqual(await store.expunge(inbox.id, [1]), []);
    const st = await store.mailboxStatus(inbox.id);
    assert.equal(st.messages, 3);
    assert.equal(st.size, [2, 3, 5].reduce((n, i) => n + message(i).byteLength, 0));
    await rejectsWith(store.expunge(999_999, [1]), "not_found");
  });

  await step("copyMessages: COPYUID pairs (RFC 4315), flags and bytes kept", async (store) => {
    const { account, inbox } = await user(store);
    const dst = await store.createMailbox(account.id, "Dst");
    await store.append(dst.id, message(100)); // dst UIDs start after 1
    for (let i = 1; i <= 4; i++) {
      await store.append(inbox.id, message(i), { flags: i === 2 ? ["\\Flagged", "$X"] : [] });
    }
    const dstBefore = await store.mailboxStatus(dst.id);
    const pairs = await store.copyMessages(inbox.id, [4, 2, 3, 77], dst.id);
    assert.deepEqual(pairs, [[2, 2], [3, 3], [4, 4]]);
    const copied = await store.getMessages(dst.id, [2, 3, 4]);
    const originals = await store.getMessages(inbox.id, [2, 3, 4]);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual([...copied[i].flags].sort(), [...originals[i].flags].sort());
      assert.equal(copied[i].internalDate, originals[i].internalDate);
      assert.equal(copied[i].size, originals[i].size);
      assert.deepEqual(await store.readBlob(copied[i].blobId), message(i + 2));
      assert.ok(copied[i].modseq > dstBefore.highestModseq);
    }
    assert.equal((await store.mailboxStatus(inbox.id)).messages, 4, "source untouched");
    assert.equal((await store.mailboxStatus(dst.id)).messages, 4);
    // Copy into the same mailbox gives new UIDs.
    assert.deepEqual(await store.copyMessages(inbox.id, [1], inbox.id), [[1, 5]]);
    assert.deepEqual(await store.copyMessages(inbox.id, [99], dst.id), []);
    await rejectsWith(store.copyMessages(inbox.id, [1], 999_999), "not_found");
    // The bytes stay readable while any copy remains.
    const blobId = originals[0].blobId;
    await store.expunge(inbox.id, [2]);
    assert.deepEqual(await store.readBlob(blobId), message(2));
  });

  await step("moveMessages: copy + expunge in one commit (RFC 6851)", async (store) => {
    const { account, inbox } = await user(store);
    const dst = await store.createMailbox(account.id, "Dst");
    for (let i = 1; i <= 3; i++) await store.append(inbox.id, message(i), { flags: ["$K"] });
    const before = await store.mailboxStatus(inbox.id);
    const expunged = waitForChange(store, (c) => c.kind === "expunge" && c.mailboxId === inbox.id);
    const appended = waitForChange(store, (c) => c.kind === "append" && c.mailboxId === dst.id);
    const pairs = await store.moveMessages(inbox.id, [3, 1], dst.id);
    assert.deepEqual(pairs, [[1, 1], [3, 2]]);
    assert.deepEqual((await expunged as { uids: number[] }).uids, [1, 3]);
    assert.deepEqual((await appended as { uids: number[] }).uids, [1, 2]);
    assert.deepEqual(uids(await store.listMessages(inbox.id)), [2]);
    const moved = await store.listMessages(dst.id);
    assert.deepEqual(uids(moved), [1, 2]);
    assert.deepEqual(moved.map((m) => m.flags), [["$K"], ["$K"]]);
    assert.deepEqual(await store.readBlob(moved[1].blobId), message(3));
    assert.deepEqual(await store.expungedSince(inbox.id, before.highestModseq), [1, 3]);
    assert.deepEqual(await store.moveMessages(inbox.id, [99], dst.id), []);
    await rejectsWith(store.moveMessages(inbox.id, [2], 999_999), "not_found");
    assert.deepEqual(uids(await store.listMessages(inbox.id)), [2], "failed move left it");
  });

  await step("blobs: byte-identical (8-bit, NUL, CR/LF), readBlobRange clips", async (store) => {
    const { inbox } = await user(store);
    const bytes = new Uint8Array(70_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    bytes.set([0, 0, 13, 10, 0xff, 0x80, 0xc3, 0x28], 0);
    const p = await store.append(inbox.id, bytes);
    const [m] = await store.getMessages(inbox.id, [p.uid]);
    assert.equal(m.size, bytes.length);
    const back = await store.readBlob(m.blobId);
    assert.ok(back instanceof Uint8Array);
    assert.deepEqual(back, bytes);
    assert.deepEqual(await store.readBlobRange(m.blobId, 0, 8), bytes.subarray(0, 8));
    assert.deepEqual(await store.readBlobRange(m.blobId, 1000, 3000), bytes.subarray(1000, 4000));
    assert.deepEqual(
      await store.readBlobRange(m.blobId, bytes.length - 5, 100),
      bytes.subarray(bytes.length - 5),
      "clipped to the end",
    );
    assert.equal((await store.readBlobRange(m.blobId, bytes.length, 10)).length, 0);
    assert.equal((await store.readBlobRange(m.blobId, bytes.length + 100, 10)).length, 0);
    assert.equal((await store.readBlobRange(m.blobId, 5, 0)).length, 0);
    // An empty message is a valid message.
    const e = await store.append(inbox.id, new Uint8Array(0));
    const [em] = await store.getMessages(inbox.id, [e.uid]);
    assert.equal(em.size, 0);
    assert.deepEqual(await store.readBlob(em.blobId), new Uint8Array(0));
    await rejectsWith(store.readBlob(987_654_321), "not_found");
    await rejectsWith(store.readBlobRange(987_654_321, 0, 1), "not_found");
    // A view into a larger buffer stores only the view's bytes.
    const big = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const v = await store.append(inbox.id, big.subarray(2, 4));
    const [vm] = await store.getMessages(inbox.id, [v.uid]);
    assert.deepEqual(await store.readBlob(vm.blobId), new Uint8Array([3, 4]));
    assert.deepEqual(big, new Uint8Array([1, 2, 3, 4, 5, 6]));
  });

  await step("readBlob: many at once (one missing, one twice) each get their own", async (
    store,
  ) => {
    const { inbox } = await user(store);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      // Small and large (a shared body from 4 KB) messages mixed.
      const msg = new TextEncoder().encode(
        `Subject: m${i}\r\n\r\n${"x".repeat(i % 3 ? 9 : 5000)}${i}`,
      );
      sent.push(msg);
      await store.append(inbox.id, msg);
    }
    const ms = await store.listMessages(inbox.id);
    const ids = [...ms.map((m) => m.blobId), 987_654_321, ms[0].blobId];
    const got = await Promise.allSettled(ids.map((id) => store.readBlob(id)));
    for (let i = 0; i < 40; i++) {
      assert.equal(got[i].status, "fulfilled");
      assert.deepEqual((got[i] as PromiseFulfilledResult<Uint8Array>).value, sent[i]);
    }
    assert.equal(got[40].status, "rejected");
    assert.equal(((got[40] as PromiseRejectedResult).reason as StoreError).code, "not_found");
    const again = (got[41] as PromiseFulfilledResult<Uint8Array>).value;
    assert.deepEqual(again, sent[0]);
    assert.notEqual(again, (got[0] as PromiseFulfilledResult<Uint8Array>).value, "own copies");
  });

  await step("quota: accountUsage and enforcement", async (store) => {
    const { account, inbox } = await user(store);
    const other = await store.createMailbox(account.id, "Other");
    assert.equal(await store.accountUsage(account.id), 0);
    const m1 = message(1);
    const m2 = message(2, "y".repeat(500));
    await store.append(inbox.id, m1);
    await store.append(other.id, m2);
    assert.equal(await store.accountUsage(account.id), m1.length + m2.length);
    await store.setQuota(account.email, m1.length + m2.length + 10);
    await rejectsWith(store.append(inbox.id, message(3, "z".repeat(100))), "quota");
    await rejectsWith(
      store.deliver(message(3, "z".repeat(100)), [{ accountId: account.id, mailbox: "INBOX" }]),
      "quota",
    );
    await rejectsWith(store.copyMessages(other.id, [1], inbox.id), "quota");
    assert.equal(await store.accountUsage(account.id), m1.length + m2.length, "nothing stored");
    await store.expunge(other.id, [1]);
    assert.equal(await store.accountUsage(account.id), m1.length);
    await store.append(inbox.id, message(3, "z".repeat(100)));
    await store.setQuota(account.email, null);
    await store.append(inbox.id, message(4, "z".repeat(5000)));
  });

  await step("queue: enqueue, get, list, update, dueQueue order and limit, remove", async (
    store,
  ) => {
    const now = Date.now();
    const mk = (n: number, nextAttemptAt: number) =>
      store.enqueue(message(n), {
        sender: n === 2 ? "" : `s${n}@example.test`,
        recipients: [
          { address: `r${n}@remote.test`, status: "pending", dsn: { notify: ["FAILURE"] } },
        ],
        nextAttemptAt,
        meta: { envid: `E${n}`, nested: { ok: true } },
      });
    const e1 = await mk(1, now + 60_000);
    const e2 = await mk(2, now - 5_000);
    const e3 = await mk(3, now - 10_000);
    const e4 = await mk(4, now - 5_000);
    assert.equal(e1.attempts, 0);
    assert.equal(e1.lastError, null);
    assert.ok(e1.createdAt >= now - 1000);
    assert.equal(e2.sender, "", "the null sender");
    assert.deepEqual(e1.meta, { envid: "E1", nested: { ok: true } });
    assert.deepEqual(e1.recipients, [
      { address: "r1@remote.test", status: "pending", dsn: { notify: ["FAILURE"] } },
    ]);
    assert.deepEqual(await store.readBlob(e3.blobId), message(3));
    assert.deepEqual(await store.getQueueEntry(e1.id), e1);
    assert.equal(await store.getQueueEntry(999_999), null);
    assert.deepEqual((await store.listQueue()).map((e) => e.id).sort((a, b) => a - b), [
      e1.id,
      e2.id,
      e3.id,
      e4.id,
    ]);
    // Due: nextAttemptAt <= now, earliest first (ties in creation order).
    assert.deepEqual((await store.dueQueue(now, 10)).map((e) => e.id), [e3.id, e2.id, e4.id]);
    assert.deepEqual((await store.dueQueue(now, 2)).map((e) => e.id), [e3.id, e2.id]);
    assert.deepEqual(await store.dueQueue(now - 20_000, 10), []);

    await store.updateQueueEntry(e3.id, {
      attempts: 1,
      lastError: "451 try later",
      nextAttemptAt: now + 120_000,
      recipients: [{ address: "r3@remote.test", status: "pending", lastError: "451 try later" }],
      meta: { envid: "E3", tries: 1 },
    });
    const u3 = (await store.getQueueEntry(e3.id))!;
    assert.equal(u3.attempts, 1);
    assert.equal(u3.lastError, "451 try later");
    assert.equal(u3.nextAttemptAt, now + 120_000);
    assert.deepEqual(u3.meta, { envid: "E3", tries: 1 });
    assert.equal(u3.recipients[0].lastError, "451 try later");
    assert.equal(u3.sender, e3.sender, "fields outside the patch are kept");
    assert.equal(u3.createdAt, e3.createdAt);
    assert.equal(u3.blobId, e3.blobId);
    assert.deepEqual((await store.dueQueue(now, 10)).map((e) => e.id), [e2.id, e4.id]);
    await store.updateQueueEntry(e3.id, { lastError: null });
    assert.equal((await store.getQueueEntry(e3.id))!.lastError, null);
    await rejectsWith(store.updateQueueEntry(999_999, { attempts: 2 }), "not_found");

    await store.removeQueueEntry(e2.id);
    assert.equal(await store.getQueueEntry(e2.id), null);
    await rejectsWith(store.readBlob(e2.blobId), "not_found");
    await rejectsWith(store.removeQueueEntry(e2.id), "not_found");
    const e5 = await mk(5, now);
    assert.ok(e5.id > e4.id, "queue ids are not reused");
  });

  await step("queue: claimQueue leases, renewQueueLeases, a new schedule ends the claim", async (
    store,
  ) => {
    const now = Date.now();
    const mk = (n: number, nextAttemptAt: number) =>
      store.enqueue(message(n), {
        sender: `s${n}@example.test`,
        recipients: [{ address: `r${n}@remote.test`, status: "pending" }],
        nextAttemptAt,
        meta: {},
      });
    const e1 = await mk(1, now - 3000);
    const e2 = await mk(2, now - 2000);
    const e3 = await mk(3, now - 1000);
    const later = await mk(4, now + 60_000);
    const a = { node: "a", ms: 10_000 };
    const b = { node: "b", ms: 10_000 };
    const ids = (es: { id: number }[]) => es.map((e) => e.id);
    // Earliest first, at most `limit`, and a claimed entry is offered to nobody else.
    assert.deepEqual(ids(await store.claimQueue(now, 2, a)), [e1.id, e2.id]);
    assert.deepEqual(ids(await store.claimQueue(now, 10, b)), [e3.id]);
    assert.deepEqual(await store.claimQueue(now, 10, a), [], "a's own claims are not offered");
    assert.equal((await store.dueQueue(now, 10)).length, 3, "dueQueue still lists them");
    // A lease runs out: another node takes the entry. Renewal by its holder keeps it.
    await store.renewQueueLeases([e1.id], now + 5000, a);
    await store.renewQueueLeases([e2.id], now + 5000, b); // not b's: no effect
    assert.deepEqual(ids(await store.claimQueue(now + 10_000, 10, b)), [e2.id, e3.id]);
    assert.deepEqual(ids(await store.claimQueue(now + 15_000, 10, b)), [e1.id]);
    // Recording an attempt (a new nextAttemptAt) ends the claim; removal too.
    await store.updateQueueEntry(e1.id, { nextAttemptAt: now, attempts: 1 });
    assert.deepEqual(ids(await store.claimQueue(now + 15_000, 10, a)), [e1.id]);
    await store.removeQueueEntry(e2.id);
    assert.deepEqual(ids(await store.claimQueue(now + 40_000, 10, a)), [e3.id, e1.id]);
    assert.deepEqual(ids(await store.claimQueue(now + 70_000, 10, a)), [e3.id, e1.id, later.id]);
    assert.deepEqual(await store.claimQueue(now + 70_000, 0, b), []);
  });

  await step("named leases: tryLease, renewLeases, releaseLease", async (store) => {
    const t = 1_000_000;
    assert.equal(await store.tryLease("maildrop:1", "a", t, t + 100), true);
    assert.equal(await store.tryLease("maildrop:1", "b", t + 50, t + 150), false, "held");
    assert.equal(await store.tryLease("maildrop:2", "b", t, t + 100), true, "another name");
    await store.renewLeases(["maildrop:1"], "a", t + 300);
    await store.renewLeases(["maildrop:2"], "a", t + 300); // not a's: unchanged
    assert.equal(await store.tryLease("maildrop:1", "b", t + 200, t + 400), false, "renewed");
    assert.equal(await store.tryLease("maildrop:2", "a", t + 100, t + 400), true, "ran out");
    await store.releaseLease("maildrop:1", "b"); // not b's: no effect
    assert.equal(await store.tryLease("maildrop:1", "b", t + 250, t + 400), false);
    await store.releaseLease("maildrop:1", "a");
    assert.equal(await store.tryLease("maildrop:1", "b", t + 250, t + 400), true, "released");
  });

  await step("kv: get/set/delete, namespaces, TTL expiry, kvIncr", async (store) => {
    assert.equal(await store.kvGet("p", "k"), null);
    await store.kvSet("p", "k", "v1");
    await store.kvSet("q", "k", "other");
    assert.equal(await store.kvGet("p", "k"), "v1");
    assert.equal(await store.kvGet("q", "k"), "other");
    await store.kvSet("p", "k", "v2");
    assert.equal(await store.kvGet("p", "k"), "v2");
    await store.kvDelete("p", "k");
    assert.equal(await store.kvGet("p", "k"), null);
    assert.equal(await store.kvGet("q", "k"), "other");
    await store.kvDelete("p", "never-set"); // deleting a missing key is fine
    await store.kvSet("p", "unicode", "é ✓ \u0000 end");
    assert.equal(await store.kvGet("p", "unicode"), "é ✓ \u0000 end");

    await store.kvSet("p", "long", "stays", 60_000);
    const t0 = Date.now();
    await store.kvSet("p", "short", "goes", 1);
    await waitUntil(() => Date.now() > t0 + 5);
    assert.equal(await store.kvGet("p", "short"), null, "expired");
    assert.equal(await store.kvGet("p", "long"), "stays");
    // getMany: in the order asked, repeats answered each time, missing and expired keys
    // null, other namespaces apart, names that are also Object.prototype's not confused.
    await store.kvSet("p", "__proto__", "proto value");
    const getMany = (ns: string, keys: string[]) => store.kvGetMany?.(ns, keys) ?? [];
    assert.deepEqual(
      await getMany("p", [
        "unicode",
        "nope",
        "long",
        "short",
        "constructor",
        "__proto__",
        "unicode",
        "k",
      ]),
      ["é ✓ \u0000 end", null, "stays", null, null, "proto value", "é ✓ \u0000 end", null],
    );
    assert.deepEqual(await getMany("q", ["k", "long"]), ["other", null]);
    assert.deepEqual(await getMany("p", []), []);
    await store.kvSet("p", "short", "again"); // no TTL now
    assert.equal(await store.kvGet("p", "short"), "again");

    assert.equal(await store.kvIncr("c", "n", 1), 1);
    assert.equal(await store.kvIncr("c", "n", 5), 6);
    assert.equal(await store.kvIncr("c", "n", -10), -4);
    assert.equal(await store.kvGet("c", "n"), "-4");
    await store.kvSet("c", "s", "not a number");
    await rejectsWith(store.kvIncr("c", "s", 1), "invalid");
    const t1 = Date.now();
    assert.equal(await store.kvIncr("c", "window", 1, 1), 1);
    await waitUntil(() => Date.now() > t1 + 5);
    assert.equal(await store.kvIncr("c", "window", 1, 60_000), 1, "expired counts as missing");
    assert.equal(await store.kvIncr("c", "window", 1), 2);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.kvIncr("c", "race", 1)),
    );
    assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));

    // incrMany: in order (a key may repeat), one transaction; a quota refuses new keys only.
    const many = store.kvIncrMany?.bind(store);
    assert.ok(many, "both stores batch increments");
    assert.deepEqual(await many("m", [["a", 1], ["b", 2], ["a", 3]]), [1, 2, 4]);
    assert.equal(await store.kvGet("m", "a"), "4");
    assert.deepEqual(await many("m", []), []);
    await rejectsWith(many("c", [["s", 1]]), "invalid");
    const quota = { maxKeys: 3, maxBytes: 1_000_000 };
    assert.deepEqual(await many("m", [["x", 1], ["y", 1], ["a", 1]], undefined, quota), [
      1,
      null,
      5,
    ]);
    assert.equal(await store.kvGet("m", "y"), null);
    const t2 = Date.now();
    assert.deepEqual(await many("w", [["t", 1], ["__proto__", 2]], 1), [1, 2]);
    await waitUntil(() => Date.now() > t2 + 5);
    assert.deepEqual(await many("w", [["t", 5]], 60_000), [5], "expired counts as missing");
    assert.equal(await store.kvGet("w", "__proto__"), null);
  });

  await step("200 concurrent delivers all succeed with distinct UIDs", async (store) => {
    const { account, inbox } = await user(store);
    const target = [{ accountId: account.id, mailbox: "INBOX" }];
    const placed = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.deliver(message(i), target)),
    );
    const got = placed.map((p) => p[0].uid);
    assert.equal(new Set(got).size, 200);
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
    const st = await store.mailboxStatus(inbox.id);
    assert.equal(st.messages, 200);
    assert.equal(st.uidNext, 201);
    // Each stored the right bytes.
    const list = await store.listMessages(inbox.id);
    const byUid = new Map(list.map((m) => [m.uid, m]));
    for (const i of [0, 57, 199]) {
      const m = byUid.get(placed[i][0].uid)!;
      assert.deepEqual(await store.readBlob(m.blobId), message(i));
    }
  });

  await step("a failing write does not fail the writes committed with it", async (store) => {
    const { account, inbox } = await user(store);
    const target = [{ accountId: account.id, mailbox: "INBOX" }];
    const results = await Promise.allSettled([
      store.deliver(message(1), target),
      store.deliver(message(2), [{ accountId: 999_999, mailbox: "INBOX" }]),
      store.createMailbox(account.id, "INBOX"),
      store.deliver(message(3), target),
      store.kvIncr("x", "y", 1),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    const r1 = results[1] as PromiseRejectedResult;
    assert.ok(r1.reason instanceof StoreError && r1.reason.code === "not_found");
    const r2 = results[2] as PromiseRejectedResult;
    assert.ok(r2.reason instanceof StoreError && r2.reason.code === "exists");
    assert.equal((await store.mailboxStatus(inbox.id)).messages, 2);
    // The failed deliver left no bytes behind: both stored messages are 1 and 3.
    const bodies = await Promise.all(
      (await store.listMessages(inbox.id)).map((m) => store.readBlob(m.blobId)),
    );
    assert.deepEqual(bodies, [message(1), message(3)]);
  });

  await step("change events: append, flags, expunge, mailbox", async (store) => {
    const { account, inbox } = await user(store);
    const seen: MailboxChange[] = [];
    const listener = (e: Event) => seen.push((e as CustomEvent<MailboxChange>).detail);
    store.changes.addEventListener("change", listener);
    try {
      let next = waitForChange(store, (c) => c.kind === "append");
      const [p] = await store.deliver(message(1), [{ accountId: account.id, mailbox: "INBOX" }]);
      let c = await next;
      assert.deepEqual(c, {
        kind: "append",
        mailboxId: inbox.id,
        uids: [p.uid],
        highestModseq: (await store.mailboxStatus(inbox.id)).highestModseq,
      });

      next = waitForChange(store, (c) => c.kind === "flags");
      await store.updateFlags({ mailboxId: inbox.id, uids: [p.uid], op: "add", flags: ["\\Seen"] });
      c = await next;
      assert.equal(c.kind, "flags");
      assert.deepEqual((c as { uids: number[] }).uids, [p.uid]);
      assert.equal(
        (c as { highestModseq: number }).highestModseq,
        (await store.mailboxStatus(inbox.id)).highestModseq,
      );

      next = waitForChange(store, (c) => c.kind === "expunge");
      await store.expunge(inbox.id, [p.uid]);
      c = await next;
      assert.deepEqual((c as { uids: number[] }).uids, [p.uid]);
      assert.equal((c as { mailboxId: number }).mailboxId, inbox.id);

      next = waitForChange(store, (c) => c.kind === "mailbox");
      const box = await store.createMailbox(account.id, "New");
      assert.deepEqual(await next, { kind: "mailbox", accountId: account.id });
      next = waitForChange(store, (c) => c.kind === "mailbox");
      await store.renameMailbox(box.id, "Newer");
      assert.deepEqual(await next, { kind: "mailbox", accountId: account.id });
      next = waitForChange(store, (c) => c.kind === "mailbox");
      await store.deleteMailbox(box.id);
      assert.deepEqual(await next, { kind: "mailbox", accountId: account.id });

      // A failed write publishes nothing.
      const count = seen.length;
      await rejectsWith(store.createMailbox(account.id, "INBOX"), "exists");
      await store.kvSet("a", "b", "c"); // a later write: its commit is after the failure
      assert.equal(seen.length, count);
    } finally {
      store.changes.removeEventListener("change", listener);
    }
  });

  await step("api tokens: create, find by hash, list, revoke; gone with the account", async (
    store,
  ) => {
    const { account } = await user(store);
    const { account: bob } = await user(store, "bob@example.test");
    const hash = "a".repeat(64);
    const tok = await store.createApiToken(account.id, "phone", hash);
    assert.equal(tok.accountId, account.id);
    assert.equal(tok.name, "phone");
    assert.ok(tok.createdAt > 0);
    assert.deepEqual(await store.findApiToken(hash), tok);
    assert.equal(await store.findApiToken("b".repeat(64)), null);
    await rejectsWith(store.createApiToken(bob.id, "dup", hash), "exists");
    await rejectsWith(store.createApiToken(account.id, "x", "not-a-hash"), "invalid");
    await rejectsWith(store.createApiToken(99999, "x", "c".repeat(64)), "not_found");
    const second = await store.createApiToken(account.id, "web", "d".repeat(64));
    assert.deepEqual((await store.listApiTokens(account.id)).map((t) => t.id), [tok.id, second.id]);
    assert.deepEqual(await store.listApiTokens(bob.id), []);
    assert.equal(await store.revokeApiToken(tok.id), true);
    assert.equal(await store.revokeApiToken(tok.id), false);
    assert.equal(await store.findApiToken(hash), null);
    await store.removeAccount("alice@example.test");
    assert.equal(await store.findApiToken("d".repeat(64)), null);
  });

  await step("admin role: set, check, list; not_found; gone with the account", async (store) => {
    const { account } = await user(store);
    const { account: bob } = await user(store, "bob@example.test");
    assert.equal(await store.isAdmin(account.id), false);
    assert.deepEqual(await store.listAdmins(), []);
    await store.setAdmin("Alice@Example.TEST", true);
    assert.equal(await store.isAdmin(account.id), true);
    assert.equal(await store.isAdmin(bob.id), false);
    await store.setAdmin("bob@example.test", true);
    assert.deepEqual(await store.listAdmins(), ["alice@example.test", "bob@example.test"]);
    await store.setAdmin("bob@example.test", false);
    assert.deepEqual(await store.listAdmins(), ["alice@example.test"]);
    await rejectsWith(store.setAdmin("nobody@example.test", true), "not_found");
    await store.removeAccount("alice@example.test");
    assert.equal(await store.isAdmin(account.id), false);
    assert.deepEqual(await store.listAdmins(), []);
  });

  await step("audit log: append, newest first, paged with before, bounded fields", async (
    store,
  ) => {
    assert.deepEqual(await store.listAudit({ limit: 10 }), []);
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await store.addAuditEntry({
          actor: "admin@example.test",
          ip: "192.0.2.1",
          action: "user.add",
          target: `u${i}@example.test`,
          detail: "{}",
        }),
      );
    }
    for (let i = 1; i < made.length; i++) assert.ok(made[i].id > made[i - 1].id);
    assert.ok(made[0].at > 0);
    const page1 = await store.listAudit({ limit: 2 });
    assert.deepEqual(page1.map((e) => e.target), ["u4@example.test", "u3@example.test"]);
    assert.deepEqual(page1[0], made[4]);
    const page2 = await store.listAudit({ limit: 10, before: page1[1].id });
    assert.deepEqual(page2.map((e) => e.target), [
      "u2@example.test",
      "u1@example.test",
      "u0@example.test",
    ]);
    const long = await store.addAuditEntry({
      actor: "x".repeat(10_000),
      ip: "",
      action: "a",
      target: "t",
      detail: "d".repeat(100_000),
    });
    assert.ok(long.actor.length <= 1000 && long.detail.length <= 10_000);
    assert.deepEqual((await store.listAudit({ limit: 1 }))[0], long);
  });

  await step("jmap records: per account and type, replaced whole, gone with the account", async (
    store,
  ) => {
    const { account } = await user(store);
    const { account: bob } = await user(store, "bob@example.test");
    assert.equal(await store.getJmapRecord(account.id, "identity"), null);
    await store.putJmapRecord(account.id, "identity", '{"state":1}');
    await store.putJmapRecord(account.id, "vacation", '{"state":7,"x":"\u00e9"}');
    await store.putJmapRecord(account.id, "identity", '{"state":2}');
    assert.equal(await store.getJmapRecord(account.id, "identity"), '{"state":2}');
    assert.equal(await store.getJmapRecord(account.id, "vacation"), '{"state":7,"x":"\u00e9"}');
    assert.equal(await store.getJmapRecord(bob.id, "identity"), null);
    await rejectsWith(store.putJmapRecord(99999, "identity", "{}"), "not_found");
    await rejectsWith(store.putJmapRecord(account.id, "Bad-Type", "{}"), "invalid");
    await store.removeAccount("alice@example.test");
    assert.equal(await store.getJmapRecord(account.id, "identity"), null);
  });

  await step("uploads: per account, byte-exact, capped, expire", async (store) => {
    const { account } = await user(store);
    const { account: bob } = await user(store, "bob@example.test");
    const bytes = new Uint8Array([0, 1, 2, 255, 0]);
    const up = await store.storeUpload(account.id, bytes, {
      type: "application/octet-stream",
      maxAccountBytes: 8,
    });
    assert.equal(up.size, 5);
    assert.equal(up.accountId, account.id);
    const got = await store.readUpload(account.id, up.id);
    assert.deepEqual(got?.data, bytes);
    assert.equal(got?.upload.type, "application/octet-stream");
    assert.equal(await store.readUpload(bob.id, up.id), null, "another account's upload");
    await rejectsWith(
      store.storeUpload(account.id, new Uint8Array(4), { type: "x/y", maxAccountBytes: 8 }),
      "quota",
    );
    await store.storeUpload(bob.id, new Uint8Array(4), { type: "x/y", maxAccountBytes: 8 });
    assert.equal(await store.expireUploads(Date.now() + 1000), 2);
    assert.equal(await store.readUpload(account.id, up.id), null);
  });

  await step("change log: placed, flagged, moved, removed, per account and kind", async (store) => {
    const { account, inbox } = await user(store);
    const { account: bob } = await user(store, "bob@example.test");
    const m0 = await store.changeLogHead(account.id, "mailbox");
    const e0 = await store.changeLogHead(account.id, "email");
    const [p] = await store.deliver(message(1), [{ accountId: account.id, mailbox: "INBOX" }]);
    const [m] = await store.getMessages(inbox.id, [p.uid]);
    await store.updateFlags({ mailboxId: inbox.id, uids: [p.uid], op: "add", flags: ["\\Seen"] });
    const trash = (await store.getMailbox(account.id, "Trash"))!;
    const [[, moved]] = await store.moveMessages(inbox.id, [p.uid], trash.id);
    await store.expunge(trash.id, [moved]);
    const email = await store.changeLogSince(account.id, "email", e0, 100);
    assert.deepEqual(
      email.map((r) => `${r.objectId} ${r.op} ${r.mailboxId} ${r.uid}`).sort(),
      [
        [m.blobId, "c", inbox.id, p.uid],
        [m.blobId, "u", inbox.id, p.uid],
        [m.blobId, "c", trash.id, moved],
        [m.blobId, "d", inbox.id, p.uid],
        [m.blobId, "d", trash.id, moved],
      ].map((r) => r.join(" ")).sort(),
    );
    assert.ok(email.every((r, i) => i === 0 || r.id > email[i - 1].id), "ids grow");
    assert.equal(await store.changeLogHead(account.id, "email"), email.at(-1)!.id);
    assert.equal((await store.changeLogSince(account.id, "email", e0, 2)).length, 2);
    const boxes = await store.changeLogSince(account.id, "mailbox", m0, 100);
    assert.deepEqual(boxes, [], "message changes are email records only");
    assert.deepEqual(await store.changeLogSince(bob.id, "email", 0, 100), []);
    const made = await store.createMailbox(account.id, "Lists");
    await store.setSpecialUse(made.id, "\\Archive");
    assert.equal((await store.getMailboxById(made.id))!.specialUse, "\\Archive");
    await store.setSpecialUse(made.id, null);
    assert.equal((await store.getMailboxById(made.id))!.specialUse, null);
    await store.renameMailbox(made.id, "Lists2");
    await store.deleteMailbox(made.id);
    const ops = (await store.changeLogSince(account.id, "mailbox", m0, 100))
      .filter((r) => r.objectId === made.id).map((r) => r.op);
    assert.deepEqual([ops[0], ops.includes("u"), ops.at(-1)], ["c", true, "d"]);
    await store.removeAccount("alice@example.test");
    assert.deepEqual(await store.changeLogSince(account.id, "mailbox", 0, 10), []);
    assert.deepEqual(await store.changeLogSince(account.id, "email", 0, 10), []);
  });

  await step("threads (RFC 8621 §3): references + base subject; copies, pages", async (
    store,
    fx,
  ) => {
    const { account, inbox } = await user(store);
    const bob = await user(store, "bob@example.test");
    const enc = (h: string[]) => new TextEncoder().encode([...h, "", "body", ""].join("\r\n"));
    const to = (id: number) => [{ accountId: id, mailbox: "INBOX" }];
    const parent = enc(["Subject: Plans", "Message-ID: <p@x>"]);
    await store.deliver(parent, [...to(account.id), ...to(bob.account.id)], {
      internalDate: 3000,
    });
    await store.deliver(enc(["Subject: RE: [list] plans", "References: <p@x>"]), to(account.id), {
      internalDate: 1000,
    });
    await store.deliver(enc(["Subject: Plans"]), to(account.id), { internalDate: 2000 });
    await store.deliver(enc(["Subject: Other", "In-Reply-To: <p@x>"]), to(account.id), {
      internalDate: 4000,
    });
    const msgs = await store.listMessages(inbox.id);
    const blobs = msgs.map((m) => m.blobId);
    const copies = await store.emailCopies(account.id, blobs);
    const thread = new Map(copies.map((c) => [c.blobId, c.threadId]));
    assert.equal(thread.get(blobs[0]), blobs[0], "a thread is named by its first Email");
    assert.equal(thread.get(blobs[1]), blobs[0], "a reply joins its parent");
    assert.equal(thread.get(blobs[2]), blobs[2], "the same subject alone does not merge");
    assert.equal(thread.get(blobs[3]), blobs[3], "a reference with another subject does not");
    assert.deepEqual(
      (await store.threadCopies(account.id, [blobs[0]])).map((c) => c.blobId).sort(),
      [blobs[0], blobs[1]].sort(),
    );
    assert.equal(copies.length, 4);
    assert.deepEqual(await store.emailCopies(bob.account.id, [blobs[1]]), [], "only own copies");
    const [bobCopy] = await store.emailCopies(bob.account.id, [blobs[0]]);
    assert.equal(bobCopy.threadId, blobs[0]);
    assert.equal((await store.accountCopies(account.id)).length, 4);
    const page = await store.mailboxPage({
      accountId: account.id,
      mailboxId: inbox.id,
      sort: "receivedAt",
      ascending: false,
      position: 1,
      limit: 2,
      total: true,
    });
    assert.deepEqual(page, { blobIds: [blobs[0], blobs[2]], total: 4 });
    // A second copy in the same mailbox is still one Email.
    await store.copyMessages(inbox.id, [msgs[2].uid], inbox.id);
    const again = await store.mailboxPage({
      accountId: account.id,
      mailboxId: inbox.id,
      sort: "size",
      ascending: true,
      position: 0,
      limit: 10,
      total: true,
    });
    assert.deepEqual([new Set(again.blobIds).size, again.blobIds.length, again.total], [4, 4, 4]);
    const collapsed = await store.mailboxPage({
      accountId: account.id,
      mailboxId: inbox.id,
      sort: "receivedAt",
      ascending: true,
      position: 0,
      limit: 10,
      total: true,
      collapseThreads: true,
    });
    // receivedAt: reply 1000, "Plans" 2000, parent 3000, "Other" 4000; reply+parent collapse.
    assert.deepEqual(collapsed, { blobIds: [blobs[1], blobs[2], blobs[3]], total: 3 });
    const archive = await store.createMailbox(account.id, "Archive");
    await store.copyMessages(inbox.id, [msgs[3].uid], archive.id);
    const whole = await store.mailboxPage({
      accountId: account.id,
      mailboxId: null,
      sort: "receivedAt",
      ascending: false,
      position: 0,
      limit: 10,
      total: true,
    });
    assert.deepEqual(whole, { blobIds: [blobs[3], blobs[0], blobs[2], blobs[1]], total: 4 });
    const bobs = await store.mailboxPage({
      accountId: bob.account.id,
      mailboxId: null,
      sort: "receivedAt",
      ascending: false,
      position: 0,
      limit: 10,
      total: true,
    });
    assert.deepEqual(bobs, { blobIds: [blobs[0]], total: 1 }, "only the account's own");
    if (fx.reopen) {
      const s2 = await fx.reopen();
      const again = await s2.emailCopies(account.id, blobs);
      assert.deepEqual(new Map(again.map((c) => [c.blobId, c.threadId])), thread, "stable");
    }
  });

  await step("retention: pruned histories keep QRESYNC and change-log answers correct", async (
    store,
  ) => {
    const { account, inbox } = await user(store);
    for (let i = 1; i <= 10; i++) {
      await store.deliver(message(i), [{ accountId: account.id, mailbox: "INBOX" }]);
    }
    let afterSix = 0;
    for (let uid = 1; uid <= 8; uid++) {
      await store.expunge(inbox.id, [uid]);
      if (uid === 6) afterSix = (await store.mailboxStatus(inbox.id)).highestModseq;
    }
    const audit = await store.addAuditEntry({
      actor: "a",
      ip: "",
      action: "x",
      target: "y",
      detail: "",
    });
    assert.equal(await store.changeLogFloor(account.id), 0);
    const r = await store.pruneHistory({ expungedKeep: 3, changeLogKeep: 5, auditKeepMs: 0 });
    assert.equal(r.expunged, 5);
    assert.equal(r.audit, 0, "0 keeps every audit entry");
    assert.ok(r.changeLog > 0);
    // Past the cut: every UID below UIDNEXT the mailbox lacks (RFC 7162 §3.2.5.1).
    assert.deepEqual(await store.expungedSince(inbox.id, 0), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await store.expungedSince(inbox.id, afterSix), [7, 8]);
    const floor = await store.changeLogFloor(account.id);
    const head = await store.changeLogHead(account.id, "email");
    assert.ok(floor > 0 && floor < head, `floor ${floor}, head ${head}`);
    const kept = await store.changeLogSince(account.id, "email", floor, 100);
    assert.ok(kept.length > 0 && kept.every((c) => c.id > floor));
    await waitUntil(() => Date.now() > audit.at + 1);
    const again = await store.pruneHistory({ expungedKeep: 3, changeLogKeep: 5, auditKeepMs: 1 });
    assert.deepEqual(again, { expunged: 0, changeLog: 0, audit: 1 });
    assert.deepEqual(await store.listAudit({ limit: 10 }), []);
  });

  await step("data survives close and reopen", async (store, fx) => {
    if (!fx.reopen) return;
    const { account, inbox } = await user(store);
    const [p] = await store.deliver(message(1), [{ accountId: account.id, mailbox: "INBOX" }]);
    await store.kvSet("ns", "k", "v");
    const s2 = await fx.reopen();
    const inbox2 = (await s2.getMailbox(account.id, "INBOX"))!;
    assert.equal(inbox2.uidValidity, inbox.uidValidity);
    const [m] = await s2.getMessages(inbox2.id, [p.uid]);
    assert.deepEqual(await s2.readBlob(m.blobId), message(1));
    assert.equal(await s2.kvGet("ns", "k"), "v");
    const [p2] = await s2.deliver(message(2), [{ accountId: account.id, mailbox: "INBOX" }]);
    assert.equal(p2.uid, p.uid + 1);
  });
}

/** Yields to the event loop until `cond()` holds (for waiting out a TTL, not for syncing). */
async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}
