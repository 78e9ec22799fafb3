/**
 * IMAP STORE: flag changes, with RFC 7162 UNCHANGEDSINCE.
 *
 * @module
 */
import { type FlagUpdate, type FlagUpdateResult, type MessageMeta } from "../../mod.ts";
import { applyFlagOp, normalizeFlags, sameFlags } from "../../names.ts";
import {
  bumpMailbox,
  checkUids,
  mailboxById,
  selectMessages,
  type WriteContext,
} from "./context.ts";

/** IMAP STORE, with RFC 7162 §3.1.3 UNCHANGEDSINCE. One new modseq for the whole command. */
export function updateFlags(ctx: WriteContext, u: FlagUpdate): FlagUpdateResult {
  checkUids(u.uids);
  const flags = normalizeFlags(u.flags);
  mailboxById(ctx, u.mailboxId);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  const updates: Array<{ m: MessageMeta; flags: string[] }> = [];
  for (const m of selectMessages(ctx, u.mailboxId, u.uids)) {
    if (u.unchangedSince !== undefined && m.modseq > u.unchangedSince) {
      result.failed.push(m.uid);
      continue;
    }
    const next = applyFlagOp(m.flags, u.op, flags);
    if (!sameFlags(next, m.flags)) updates.push({ m, flags: next });
  }
  if (updates.length === 0) return result;
  const { modseq } = bumpMailbox(ctx, u.mailboxId, 0);
  const stmt = ctx.sql.get(
    "UPDATE messages SET flags = ?, seen = ?, deleted = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
  );
  for (const { m, flags } of updates) {
    stmt.run(
      flags.join(" "),
      flags.includes("\\Seen") ? 1 : 0,
      flags.includes("\\Deleted") ? 1 : 0,
      modseq,
      u.mailboxId,
      m.uid,
    );
    result.changed.push({ ...m, flags, modseq });
  }
  ctx.changes.push({
    kind: "flags",
    mailboxId: u.mailboxId,
    uids: result.changed.map((m) => m.uid),
    highestModseq: modseq,
  });
  return result;
}
