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

/** IMAP STORE, with RFC 7162 §3.1.3 UNCHANGEDSINCE. One new modseq for the whole command. */
export async function updateFlags(ctx: WriteContext, u: FlagUpdate): Promise<FlagUpdateResult> {
  checkUids(u.uids);
  const flags = normalizeFlags(u.flags);
  await lockMailboxes(ctx, [u.mailboxId]);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  const updates: Array<{ m: MessageMeta; flags: string[] }> = [];
  for (const m of await selectMessages(ctx, u.mailboxId, u.uids)) {
    if (u.unchangedSince !== undefined && m.modseq > u.unchangedSince) {
      result.failed.push(m.uid);
      continue;
    }
    const next = applyFlagOp(m.flags, u.op, flags);
    if (!sameFlags(next, m.flags)) updates.push({ m, flags: next });
  }
  if (updates.length === 0) return result;
  const { modseq } = await bumpMailbox(ctx, u.mailboxId, 0);
  await q(
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
  return result;
}
