import assert from "node:assert/strict";
import { Maildrop } from "./maildrop.ts";
import { Pop3Error } from "./errors.ts";
import type { Mailbox, MessageMeta } from "../../storage/mod.ts";

const box: Mailbox = {
  id: 7,
  accountId: 1,
  name: "INBOX",
  uidValidity: 1234,
  uidNext: 20,
  highestModseq: 1,
  specialUse: null,
  subscribed: true,
};
const meta = (uid: number, size: number, flags: string[] = []): MessageMeta => ({
  mailboxId: 7,
  uid,
  modseq: 1,
  flags,
  internalDate: 0,
  size,
  blobId: uid * 10,
});

Deno.test("pop3 maildrop", async (t) => {
  const md = () => new Maildrop(box, [meta(3, 100), meta(5, 200, ["\\Seen"]), meta(9, 300)]);
  await t.step("numbers 1..n, counts and sizes", () => {
    const m = md();
    assert.equal(m.count, 3);
    assert.equal(m.size, 600);
    assert.equal(m.get(2).uid, 5);
    assert.throws(() => m.get(0), Pop3Error);
    assert.throws(() => m.get(4), Pop3Error);
  });
  await t.step("DELE hides, RSET restores", () => {
    const m = md();
    m.delete(2);
    assert.equal(m.count, 2);
    assert.equal(m.size, 400);
    assert.throws(() => m.get(2), /already deleted/);
    assert.throws(() => m.delete(2), /already deleted/);
    assert.deepEqual([...m.live()].map(([n]) => n), [1, 3]);
    assert.deepEqual(m.deletedUids(), [5]);
    m.reset();
    assert.equal(m.count, 3);
    assert.deepEqual(m.deletedUids(), []);
  });
  await t.step("unique ids derive from UIDVALIDITY and UID", () => {
    assert.equal(md().uniqueId(3), "1234.9");
  });
  await t.step("newly seen: retrieved, not deleted, not already seen", () => {
    const m = md();
    m.markRetrieved(1);
    m.markRetrieved(2);
    m.markRetrieved(3);
    m.delete(3);
    assert.deepEqual(m.newlySeenUids(), [3]);
  });
});
