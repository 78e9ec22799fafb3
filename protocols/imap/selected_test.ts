import assert from "node:assert/strict";
import type { Mailbox, MessageMeta, Store } from "../../storage/mod.ts";
import { SelectedMailbox } from "./selected.ts";
import { RecentTracker } from "../../core/recent.ts";
import { MailboxKeywords } from "../../core/mailbox_keywords.ts";

const MAILBOX: Mailbox = {
  id: 7,
  accountId: 1,
  name: "INBOX",
  uidValidity: 99,
  uidNext: 1,
  highestModseq: 1,
  specialUse: null,
  subscribed: true,
};

const meta = (uid: number, flags: string[] = [], modseq = 1): MessageMeta => ({
  mailboxId: 7,
  uid,
  modseq,
  flags,
  internalDate: 0,
  size: 10,
  blobId: uid,
});

/** Just enough of a Store for the view: a map of messages. */
function fakeStore(msgs: Map<number, MessageMeta>, alive = () => true): Store {
  return {
    changes: new EventTarget(),
    listMessages: () => Promise.resolve([...msgs.values()]),
    getMessages: (_id: number, uids: number[]) =>
      Promise.resolve(uids.filter((u) => msgs.has(u)).map((u) => msgs.get(u)!)),
    getMailboxById: () => Promise.resolve(alive() ? MAILBOX : null),
  } as unknown as Store;
}

/** The server registries a view uses, fresh for one store. */
const viewDeps = (store: Store) => ({
  store,
  recent: new RecentTracker(store),
  mailboxKeywords: new MailboxKeywords(),
});

Deno.test("selected view (RFC 9051 §7.5)", async (t) => {
  const msgs = new Map([1, 2, 3, 4].map((u) => [u, meta(u)]));
  const store = fakeStore(msgs);
  const view = await SelectedMailbox.open(viewDeps(store), MAILBOX, false);
  const sync = (allowExpunge: boolean) => view.sync(store, { allowExpunge, rev2: true });

  await t.step("sequence numbers and sets", () => {
    assert.equal(view.exists, 4);
    assert.deepEqual(view.bySeqSet({ saved: false, ranges: [[2, "*"]] }).map((m) => m.meta.uid), [
      2,
      3,
      4,
    ]);
    assert.throws(
      () => view.bySeqSet({ saved: false, ranges: [[5, 5]] }),
      /Invalid message sequence/,
    );
    assert.deepEqual(view.byUidSet({ saved: false, ranges: [[9, "*"]] }).map((m) => m.seq), [4]);
    assert.deepEqual(view.byUidSet({ saved: false, ranges: [[5, 8]] }), []);
  });

  await t.step("an expunge waits until it may be reported", async () => {
    msgs.delete(2);
    view.onChange({ kind: "expunge", mailboxId: 7, uids: [2], highestModseq: 2 });
    assert.deepEqual(await sync(false), []);
    assert.equal(view.seqOf(3), 3, "numbers stay while the expunge is pending");
    assert.ok(view.isPendingExpunge(2));
    assert.deepEqual(await sync(true), ["* 2 EXPUNGE\r\n"]);
    assert.equal(view.seqOf(3), 2);
  });

  await t.step("appends become EXISTS; changes to other mailboxes are ignored", async () => {
    msgs.set(5, meta(5));
    msgs.set(6, meta(6));
    view.onChange({ kind: "append", mailboxId: 7, uids: [6], highestModseq: 3 });
    view.onChange({ kind: "append", mailboxId: 8, uids: [100], highestModseq: 3 });
    assert.deepEqual(await sync(false), ["* 5 EXISTS\r\n"]);
    assert.deepEqual(view.messages.map((m) => m.uid), [1, 3, 4, 5, 6]);
    assert.ok(view.recent.has(5) && view.recent.has(6));
  });

  await t.step("flag changes by others are reported once; own changes not again", async () => {
    msgs.set(3, meta(3, ["\\Seen"], 4));
    view.onChange({ kind: "flags", mailboxId: 7, uids: [3], highestModseq: 4 });
    assert.deepEqual(await sync(false), ["* 2 FETCH (UID 3 FLAGS (\\Seen))\r\n"]);
    assert.deepEqual(await sync(false), []);
    const own = meta(4, ["\\Flagged"], 5);
    msgs.set(4, own);
    view.applyOwn([own]);
    view.onChange({ kind: "flags", mailboxId: 7, uids: [4], highestModseq: 5 });
    assert.deepEqual(await sync(true), []);
  });

  await t.step("own expunges renumber as they go", () => {
    assert.deepEqual(view.removeOwn([5, 1]), ["* 1 EXPUNGE\r\n", "* 3 EXPUNGE\r\n"]);
    assert.deepEqual(view.messages.map((m) => m.uid), [3, 4, 6]);
  });

  await t.step(
    "RFC 7162: MODSEQ, VANISHED, HIGHESTMODSEQ held below a pending expunge",
    async () => {
      const opts = { rev2: true, condstore: true, qresync: true };
      assert.equal(view.highestModseq, 5);
      msgs.delete(1);
      msgs.delete(5);
      msgs.delete(6);
      view.onChange({ kind: "expunge", mailboxId: 7, uids: [6], highestModseq: 6 });
      msgs.set(3, meta(3, ["\\Answered"], 7));
      view.onChange({ kind: "flags", mailboxId: 7, uids: [3], highestModseq: 7 });
      assert.equal(view.highestModseq, 5, "the expunge at 6 is not reported yet");
      assert.deepEqual(await view.sync(store, { ...opts, allowExpunge: false }), [
        "* 1 FETCH (UID 3 FLAGS (\\Answered) MODSEQ (7))\r\n",
        "* OK [HIGHESTMODSEQ 5] Expunges pending\r\n",
      ]);
      assert.deepEqual(await view.sync(store, { ...opts, allowExpunge: true }), [
        "* VANISHED 6\r\n",
      ]);
      assert.equal(view.dirty, false, "an expunged last UID is not mistaken for a new one");
      assert.equal(view.highestModseq, 7);
      assert.deepEqual(view.removeOwn([3, 4], true), ["* VANISHED 3:4\r\n"]);
      assert.equal(view.exists, 0);
    },
  );

  await t.step("a deleted mailbox is noticed", async () => {
    let alive = true;
    const s2 = fakeStore(msgs, () => alive);
    const v2 = await SelectedMailbox.open(viewDeps(s2), MAILBOX, true);
    alive = false;
    v2.onChange({ kind: "mailbox", accountId: 1 });
    await v2.sync(s2, { allowExpunge: true, rev2: true });
    assert.ok(v2.deleted);
  });
});
