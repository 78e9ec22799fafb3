/**
 * Writes that add or remove messages: delivery (one blob, many targets), APPEND, EXPUNGE,
 * COPY and MOVE. Every change raises the mailbox's modseq (RFC 7162 §3.1) and is recorded in
 * `ctx.changes`.
 *
 * @module
 */
import { type DeliveryTarget, type Placed, StoreError } from "../../mod.ts";
import { normalizeFlags, normalizeMailboxName } from "../../names.ts";
import { type Row } from "../rows.ts";
import { assignThread } from "../threads.ts";
import { createMailbox } from "./mailboxes.ts";
import {
  bumpMailbox,
  checkMessage,
  checkQuota,
  checkUids,
  insertMessage,
  mailboxById,
  recordExpunged,
  selectMessages,
  type WriteContext,
} from "./context.ts";
import { storeBlob } from "../blobs.ts";

function internalDateOf(ctx: WriteContext, internalDate: number | undefined): number {
  if (internalDate === undefined) return ctx.now();
  if (!Number.isFinite(internalDate)) throw new StoreError("invalid", "invalid internal date");
  return Math.trunc(internalDate);
}

/**
 * Stores the bytes once and places them in every target (missing mailbox -> INBOX, or
 * created when the target says `create`).
 */
export function deliver(
  ctx: WriteContext,
  a: { message: Uint8Array; targets: DeliveryTarget[]; internalDate?: number },
): Placed[] {
  checkMessage(a.message);
  // A message stored for no one would be acknowledged and lost: the caller has a bug.
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "a delivery needs at least one target");
  }
  const internalDate = internalDateOf(ctx, a.internalDate);
  const blobId = storeBlob(ctx, a.message);
  const placed: Placed[] = [];
  for (const t of a.targets) {
    let name = "INBOX";
    try {
      name = normalizeMailboxName(t.mailbox);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e; // an invalid name falls back to INBOX too
    }
    const byName = ctx.sql.get("SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
    if (t.create && name !== "INBOX" && !byName.get(t.accountId, name)) {
      const exists = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(t.accountId);
      if (exists) createMailbox(ctx, { accountId: t.accountId, name });
    }
    const mb = (byName.get(t.accountId, name) ?? byName.get(t.accountId, "INBOX")) as
      | { id: number }
      | undefined;
    if (!mb) throw new StoreError("not_found", `no such account: ${t.accountId}`);
    placed.push(place(ctx, mb.id, t.accountId, a.message, blobId, {
      flags: normalizeFlags(t.flags ?? []),
      internalDate,
    }));
  }
  return placed;
}

function place(
  ctx: WriteContext,
  mailboxId: number,
  accountId: number,
  message: Uint8Array,
  blobId: number,
  o: { flags: string[]; internalDate: number },
): Placed {
  const size = message.byteLength;
  checkQuota(ctx, accountId, size);
  assignThread(ctx.sql, accountId, blobId, message);
  const { firstUid: uid, modseq, uidValidity } = bumpMailbox(ctx, mailboxId, 1);
  insertMessage(ctx, {
    mailboxId,
    uid,
    modseq,
    flags: o.flags,
    internalDate: o.internalDate,
    size,
    blobId,
  });
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: modseq });
  return { accountId, mailboxId, uid, uidValidity };
}

export function append(
  ctx: WriteContext,
  a: { mailboxId: number; message: Uint8Array; flags?: string[]; internalDate?: number },
): Placed {
  checkMessage(a.message);
  const mb = mailboxById(ctx, a.mailboxId);
  const flags = normalizeFlags(a.flags ?? []);
  const internalDate = internalDateOf(ctx, a.internalDate);
  const blobId = storeBlob(ctx, a.message);
  return place(ctx, mb.id, mb.accountId, a.message, blobId, { flags, internalDate });
}

function removeMessages(ctx: WriteContext, mailboxId: number, uids: number[]): number[] {
  const removed = (ctx.sql.get(
    `DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))
     RETURNING uid`,
  ).all(mailboxId, JSON.stringify(uids)) as Row[]).map((r) => r.uid as number)
    .sort((x, y) => x - y);
  if (removed.length === 0) return removed;
  // RFC 7162 §3.2.10: expunges get a modseq too, for VANISHED (EARLIER).
  const { modseq } = bumpMailbox(ctx, mailboxId, 0);
  recordExpunged(ctx, mailboxId, removed, modseq);
  ctx.changes.push({ kind: "expunge", mailboxId, uids: removed, highestModseq: modseq });
  return removed;
}

export function expunge(ctx: WriteContext, a: { mailboxId: number; uids: number[] }): number[] {
  checkUids(a.uids);
  mailboxById(ctx, a.mailboxId);
  return removeMessages(ctx, a.mailboxId, a.uids);
}

/** RFC 4315 COPYUID: [source UID, destination UID] pairs in source UID order. */
export function copyMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Array<[number, number]> {
  checkUids(a.uids);
  mailboxById(ctx, a.fromMailboxId);
  const to = mailboxById(ctx, a.toMailboxId);
  const sources = selectMessages(ctx, a.fromMailboxId, a.uids);
  if (sources.length === 0) return [];
  checkQuota(ctx, to.accountId, sources.reduce((n, m) => n + m.size, 0));
  const { firstUid, modseq } = bumpMailbox(ctx, to.id, sources.length);
  const pairs: Array<[number, number]> = [];
  sources.forEach((m, i) => {
    const uid = firstUid + i;
    insertMessage(ctx, { ...m, mailboxId: to.id, uid, modseq });
    pairs.push([m.uid, uid]);
  });
  ctx.changes.push({
    kind: "append",
    mailboxId: to.id,
    uids: pairs.map((p) => p[1]),
    highestModseq: modseq,
  });
  return pairs;
}

/** RFC 6851 MOVE: copy and expunge in the same transaction. */
export function moveMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Array<[number, number]> {
  const pairs = copyMessages(ctx, a);
  if (pairs.length > 0) removeMessages(ctx, a.fromMailboxId, pairs.map((p) => p[0]));
  return pairs;
}

// ---------------------------------------------------------------- queue
