/**
 * IMAP STORE: flag changes, with RFC 7162 UNCHANGEDSINCE. The mailbox's row is locked before
 * the flags are read, so two writers changing the same messages apply one after the other
 * (no lost update) on every node.
 *
 * @module
 */
import { type FlagUpdate, type FlagUpdateResult, type MessageMeta } from "../../mod.ts";
import { applyFlagOp, normalizeFlags, sameFlags } from "../../names.ts";
import {
  bumpMailbox,
  checkUids,
  lockMailboxes,
  q,
  selectMessages,
  type WriteContext,
} from "./context.ts";
import { notifyChanges } from "../change_bus.ts";

/** IMAP STORE, with RFC 7162 §3.1.3 UNCHANGEDSINCE. One new modseq for the whole command. */
export async function updateFlags(ctx: WriteContext, u: FlagUpdate): Promise<FlagUpdateResult> {
  checkUids(u.uids);
  const flags = normalizeFlags(u.flags);
  // The lock and the read travel together (context.ts `q`); the read runs under the lock.
  const [locked, current] = await Promise.all([
    lockMailboxes(ctx, [u.mailboxId]),
    selectMessages(ctx, u.mailboxId, u.uids),
  ]);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  const updates: Array<{ m: MessageMeta; flags: string[] }> = [];
  for (const m of current) {
    if (u.unchangedSince !== undefined && m.modseq > u.unchangedSince) {
      result.failed.push(m.uid);
      continue;
    }
    const next = applyFlagOp(m.flags, u.op, flags);
    if (!sameFlags(next, m.flags)) updates.push({ m, flags: next });
  }
  if (updates.length === 0) return result;
  // bumpMailbox raises the locked row's modseq by one: known before it answers, so the
  // bump, the rows and the notification go out together.
  const modseq = locked.get(u.mailboxId)!.highestModseq + 1;
  const bumped = bumpMailbox(ctx, u.mailboxId, 0);
  const written = q(
    ctx,
    // Booleans travel as 0/1: the driver cannot send a boolean[] parameter.
    `UPDATE messages SET flags = v.flags, seen = v.seen <> 0, deleted = v.deleted <> 0,
       modseq = $1
     FROM unnest($2::bigint[], $3::text[], $4::int[], $5::int[]) AS v(uid, flags, seen, deleted)
     WHERE messages.mailbox_id = $6 AND messages.uid = v.uid`,
    [
      modseq,
      updates.map((x) => x.m.uid),
      updates.map((x) => x.flags.join(" ")) as never,
      updates.map((x) => x.flags.includes("\\Seen") ? 1 : 0),
      updates.map((x) => x.flags.includes("\\Deleted") ? 1 : 0),
      u.mailboxId,
    ],
  );
  for (const { m, flags } of updates) result.changed.push({ ...m, flags, modseq });
  ctx.changes.push({
    kind: "flags",
    mailboxId: u.mailboxId,
    uids: result.changed.map((m) => m.uid),
    highestModseq: modseq,
  });
  // Its notification too (sent only if this transaction commits; change_bus.ts).
  const origin = ctx.origin;
  const notified = origin === undefined
    ? undefined
    : notifyChanges(ctx.tx, origin, ctx.changes.slice(ctx.notified ?? 0));
  const [b] = await Promise.all([bumped, written, notified]);
  if (b.modseq !== modseq) throw new Error(`modseq ${b.modseq}, expected ${modseq}`);
  if (origin !== undefined) ctx.notified = ctx.changes.length;
  return result;
}
