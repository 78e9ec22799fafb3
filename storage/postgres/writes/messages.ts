/**
 * Writes that add or remove messages: delivery (one blob, many targets), APPEND,
 * COPY and MOVE. Every change raises the mailbox's modseq (RFC 7162 §3.1) and is recorded in
 * `ctx.changes`. Locks follow the order of `context.ts`: accounts, mailboxes, blobs.
 *
 * @module
 */
import { type DeliveryTarget, type MessageMeta, type Placed, StoreError } from "../../mod.ts";
import { normalizeFlags, normalizeMailboxName } from "../../names.ts";
import { storeBlob } from "./blobs.ts";
import { assignThread, threadInputs } from "./threads.ts";
import { deliverOne, type OneDelivery } from "./deliver_one.ts";
import {
  bumpMailbox,
  checkMessage,
  checkQuota,
  checkUids,
  insertMailbox,
  insertMessages,
  lockAccounts,
  lockMailboxes,
  mailboxById,
  mailboxByName,
  mailboxChanged,
  q,
  q1,
  recordExpunged,
  selectMessages,
  type WriteContext,
} from "./context.ts";

/**
 * Checks a delivery's arguments (throws StoreError "invalid"); returns it as one plain
 * delivery (deliver_one.ts) when it has one target and no mailbox to create, else null.
 */
export function plainDelivery(now: () => number, a: DeliverArgs): OneDelivery | null {
  checkMessage(a.message);
  // A message stored for no one would be acknowledged and lost: the caller has a bug.
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "a delivery needs at least one target");
  }
  const internalDate = internalDateOf({ now }, a.internalDate);
  if (a.targets.length !== 1) return null;
  const name = targetName(a.targets[0]);
  if (a.targets[0].create && name !== "INBOX") return null;
  return { message: a.message, target: a.targets[0], name, internalDate };
}

function internalDateOf(ctx: { now(): number }, internalDate: number | undefined): number {
  if (internalDate === undefined) return ctx.now();
  if (!Number.isFinite(internalDate)) throw new StoreError("invalid", "invalid internal date");
  return Math.trunc(internalDate);
}

/** The normalised name of a target's mailbox; INBOX for an invalid one. */
function targetName(t: DeliveryTarget): string {
  try {
    return normalizeMailboxName(t.mailbox);
  } catch (e) {
    if (!(e instanceof StoreError)) throw e; // an invalid name falls back to INBOX too
    return "INBOX";
  }
}

/**
 * The mailbox a delivery target lands in: its named mailbox (created first when the target
 * says `create`, a Sieve `fileinto :create`), else INBOX. The caller holds the account lock.
 */
async function targetMailbox(ctx: WriteContext, t: DeliveryTarget): Promise<number> {
  const name = targetName(t);
  if (t.create && name !== "INBOX" && !(await mailboxByName(ctx, t.accountId, name))) {
    if (await q1(ctx, "SELECT 1 AS x FROM accounts WHERE id = $1", [t.accountId])) {
      await insertMailbox(ctx, t.accountId, name, null);
      mailboxChanged(ctx, t.accountId);
    }
  }
  const r = await q1(
    ctx,
    `SELECT id FROM mailboxes WHERE account_id = $1 AND name = ANY($2::text[])
     ORDER BY name = 'INBOX' LIMIT 1`,
    [t.accountId, [name, "INBOX"] as never],
  );
  if (!r) throw new StoreError("not_found", `no such account: ${t.accountId}`);
  return r.id as number;
}

/**
 * Stores the bytes once and places them in every target (missing mailbox -> INBOX, or
 * created when the target says `create`).
 */
/** The arguments of `Store.deliver`. */
export interface DeliverArgs {
  message: Uint8Array;
  targets: DeliveryTarget[];
  internalDate?: number;
}

export async function deliver(ctx: WriteContext, a: DeliverArgs): Promise<Placed[]> {
  const plain = plainDelivery(ctx.now, a);
  // Before any lock: a new blob is invisible to other writers until COMMIT.
  const blobId = await storeBlob(ctx, a.message, true);
  if (plain) return [await deliverOne(ctx, plain, blobId)];
  const internalDate = internalDateOf(ctx, a.internalDate);
  await lockAccounts(ctx, a.targets.map((t) => t.accountId));
  const boxes: number[] = [];
  for (const t of a.targets) boxes.push(await targetMailbox(ctx, t));
  await lockMailboxes(ctx, boxes);
  const placed: Placed[] = [];
  for (let i = 0; i < a.targets.length; i++) {
    const t = a.targets[i];
    placed.push(
      await place(ctx, boxes[i], t.accountId, a.message, blobId, {
        flags: normalizeFlags(t.flags ?? []),
        internalDate,
      }),
    );
  }
  return placed;
}

async function place(
  ctx: WriteContext,
  mailboxId: number,
  accountId: number,
  message: Uint8Array,
  blobId: number,
  o: { flags: string[]; internalDate: number },
): Promise<Placed> {
  const size = message.byteLength;
  await checkQuota(ctx, accountId, size);
  await assignThread(ctx, accountId, blobId, message); // under the account's row lock
  const { firstUid: uid, modseq, uidValidity } = await bumpMailbox(ctx, mailboxId, 1);
  await insertMessages(ctx, [{
    mailboxId,
    uid,
    modseq,
    flags: o.flags,
    internalDate: o.internalDate,
    size,
    blobId,
  }]);
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: modseq });
  return { accountId, mailboxId, uid, uidValidity };
}

/**
 * IMAP APPEND (and JMAP import): the blob first (no lock needed: invisible to others until
 * COMMIT), then one call of `denomail_append_one` (../imap_sql.ts) takes the locks, checks
 * the quota, threads, places the message and notifies — the locks are held for that call
 * and the COMMIT only.
 */
export async function append(
  ctx: WriteContext,
  a: { mailboxId: number; message: Uint8Array; flags?: string[]; internalDate?: number },
): Promise<Placed> {
  checkMessage(a.message);
  const flags = normalizeFlags(a.flags ?? []);
  const internalDate = internalDateOf(ctx, a.internalDate);
  const th = threadInputs(a.message);
  const blobId = await storeBlob(ctx, a.message, true);
  // The notification goes out in the call when nothing before it is still to be sent.
  const notifies = ctx.origin !== undefined && (ctx.notified ?? 0) === ctx.changes.length;
  const r = await q1(
    ctx,
    "SELECT * FROM denomail_append_one($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    [
      a.mailboxId,
      blobId,
      a.message.byteLength,
      flags.join(" "),
      flags.includes("\\Seen"),
      flags.includes("\\Deleted"),
      internalDate,
      th.refs as never,
      th.ids as never,
      th.subject,
      notifies ? ctx.origin! : null,
    ],
  );
  if (r?.o_status === "quota") throw new StoreError("quota", `quota exceeded for ${r.o_detail}`);
  if (r?.o_status !== "ok") throw new StoreError("not_found", `no such mailbox: ${a.mailboxId}`);
  const uid = r.o_uid as number;
  const mailboxId = a.mailboxId;
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: r.o_modseq as number });
  if (notifies) ctx.notified = ctx.changes.length;
  return {
    accountId: r.o_account as number,
    mailboxId,
    uid,
    uidValidity: r.o_uid_validity as number,
  };
}

/**
 * MOVE's expunge of the sources, under the locks copyMessages took. (EXPUNGE itself is one
 * statement: ../imap_sql.ts.)
 */
async function removeMessages(
  ctx: WriteContext,
  mailboxId: number,
  uids: number[],
): Promise<number[]> {
  const deleted = await q(
    ctx,
    "DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) RETURNING uid",
    [mailboxId, uids],
  );
  const removed = deleted.map((r) => r.uid as number).sort((x, y) => x - y);
  if (removed.length === 0) return removed;
  // RFC 7162 §3.2.10: expunges get a modseq too, for VANISHED (EARLIER). The bump and the
  // expunge records go out together; the records read the bumped modseq (they run after).
  const [{ modseq }] = await Promise.all([
    bumpMailbox(ctx, mailboxId, 0),
    recordExpunged(ctx, mailboxId, removed, null),
  ]);
  ctx.changes.push({ kind: "expunge", mailboxId, uids: removed, highestModseq: modseq });
  return removed;
}

/** RFC 4315 COPYUID: [source UID, destination UID] pairs in source UID order. */
export async function copyMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Promise<Array<[number, number]>> {
  checkUids(a.uids);
  await mailboxById(ctx, a.fromMailboxId);
  const to = await mailboxById(ctx, a.toMailboxId);
  await lockAccounts(ctx, [to.accountId]);
  await lockMailboxes(ctx, [a.fromMailboxId, a.toMailboxId]);
  const sources = await selectMessages(ctx, a.fromMailboxId, a.uids);
  if (sources.length === 0) return [];
  await checkQuota(ctx, to.accountId, sources.reduce((n, m) => n + m.size, 0));
  const { firstUid, modseq } = await bumpMailbox(ctx, to.id, sources.length);
  const pairs: Array<[number, number]> = [];
  const copies: MessageMeta[] = sources.map((m, i) => {
    pairs.push([m.uid, firstUid + i]);
    return { ...m, mailboxId: to.id, uid: firstUid + i, modseq };
  });
  await insertMessages(ctx, copies);
  ctx.changes.push({
    kind: "append",
    mailboxId: to.id,
    uids: pairs.map((p) => p[1]),
    highestModseq: modseq,
  });
  return pairs;
}

/** RFC 6851 MOVE: copy and expunge in the same transaction. */
export async function moveMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Promise<Array<[number, number]>> {
  const pairs = await copyMessages(ctx, a);
  if (pairs.length > 0) await removeMessages(ctx, a.fromMailboxId, pairs.map((p) => p[0]));
  return pairs;
}
