/**
 * COPY and MOVE, with their UID forms (RFC 9051 §6.4.7, §6.4.8; RFC 6851; UIDPLUS COPYUID
 * RFC 4315 §3).
 *
 * @module
 */
import { Code } from "../codes.ts";
import { qresyncOn } from "../condstore.ts";
import { command, type SessionContext } from "../context.ts";
import { no } from "../errors.ts";
import { targetMailbox } from "../mailbox_args.ts";
import type { ArgReader, SequenceSet } from "../parser.ts";
import { compactSet, untagged } from "../response.ts";
import { notifyMailboxMove } from "../hooks.ts";
import { checkMailboxKeywords } from "../keyword_limits.ts";
import { isKeyword, noteKeywords } from "../../../core/mailbox_keywords.ts";

interface CopyArgs {
  set: SequenceSet;
  mailbox: string;
}

function parse(r: ArgReader): CopyArgs {
  r.space();
  const set = r.sequenceSet();
  r.space();
  return { set, mailbox: r.astring("a mailbox name") };
}

function copyUid(uidValidity: number, pairs: Array<[number, number]>): string {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  return `${Code.COPYUID} ${uidValidity} ${compactSet(sorted.map((p) => p[0]))} ${
    compactSet(sorted.map((p) => p[1]))
  }`;
}

async function copyOrMove(
  ctx: SessionContext,
  { set, mailbox }: CopyArgs,
  uid: boolean,
  move: boolean,
) {
  const view = ctx.selected!;
  const targets = uid ? view.byUidSet(set) : view.bySeqSet(set);
  const dest = await targetMailbox(ctx, mailbox);
  const verb = move ? "MOVE" : "COPY";
  if (targets.length === 0) return { text: `${verb} completed` };
  // RFC 6851 §3.3: MOVE needs write access to the source.
  if (move && view.readOnly) throw no("Mailbox is read-only");
  const uids = targets.map((t) => t.meta.uid);
  const store = ctx.deps.store;
  // The copies bring their keywords: the target mailbox's limit holds for them too.
  const carried = new Set<string>();
  for (const t of targets) for (const f of t.meta.flags) if (isKeyword(f)) carried.add(f);
  const known = carried.size > 0 ? await ctx.deps.mailboxKeywords.complete(store, dest) : null;
  if (known) checkMailboxKeywords(ctx, [...carried], known);
  const pairs = move
    ? await store.moveMessages(view.mailbox.id, uids, dest.id)
    : await store.copyMessages(view.mailbox.id, uids, dest.id);
  if (pairs.length === 0) {
    // RFC 9051 §6.4.7: every message was expunged meanwhile.
    throw no("Messages were expunged", Code.EXPUNGEISSUED);
  }
  if (known) noteKeywords(known, carried);
  if (dest.id === view.mailbox.id) { for (const [, d] of pairs) view.noteAppended(d); }
  // Plugins (mailbox_move, fire-and-forget): into or out of Junk, for filters that learn.
  const blobOf = new Map(targets.map((t) => [t.meta.uid, t.meta.blobId]));
  notifyMailboxMove(ctx, {
    from: view.mailbox,
    to: dest,
    command: move ? "move" : "copy",
    messages: pairs.map(([s, d]) => ({ blobId: blobOf.get(s)!, uid: d })),
  });
  const code = copyUid(dest.uidValidity, pairs);
  if (!move) return { code, text: "COPY completed" };
  // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs.
  ctx.send(untagged(`OK [${code}] Moved`));
  // RFC 7162 §3.2.10: VANISHED instead of EXPUNGE once QRESYNC is enabled.
  for (const line of view.removeOwn(pairs.map((p) => p[0]), qresyncOn(ctx))) ctx.send(line);
  return { text: "MOVE completed" };
}

/** RFC 9051 §6.4.7: COPY sequence-set mailbox. */
export const COPY = command({
  parse,
  run: (ctx, a, cmd) => copyOrMove(ctx, a, cmd.uid, false),
});

/** RFC 6851 §3.1: MOVE sequence-set mailbox. */
export const MOVE = command({
  parse,
  run: (ctx, a, cmd) => copyOrMove(ctx, a, cmd.uid, true),
});
