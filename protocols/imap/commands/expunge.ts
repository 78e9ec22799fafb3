/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1, RFC 9051 §6.4.9).
 *
 * @module
 */
import { Code } from "../codes.ts";
import { condstoreOn, qresyncOn } from "../condstore.ts";
import { command, type Completion, type SessionContext } from "../context.ts";
import { no } from "../errors.ts";
import type { SequenceSet } from "../parser.ts";

async function expunge(ctx: SessionContext, only: SequenceSet | null): Promise<void> {
  const view = ctx.selected!;
  if (view.readOnly) throw no("Mailbox is read-only");
  // Pending changes first, so that numbering below matches what the client has been told.
  await ctx.syncSelected(true);
  const inView = only
    ? view.byUidSet(only)
    : view.messages.map((meta, i) => ({ seq: i + 1, meta }));
  if (inView.length === 0) return;
  // The store's flags are authoritative: another session may have set \Deleted.
  const current = await ctx.deps.store.getMessages(
    view.mailbox.id,
    inView.map((m) => m.meta.uid),
  );
  const deleted = current.filter((m) => m.flags.includes("\\Deleted")).map((m) => m.uid);
  if (deleted.length === 0) return;
  const removed = await ctx.deps.store.expunge(view.mailbox.id, deleted);
  // RFC 9051 §7.5.1: one EXPUNGE per message, numbered as the client sees the mailbox;
  // RFC 7162 §3.2.10: one VANISHED instead once QRESYNC is enabled.
  for (const line of view.removeOwn(removed, qresyncOn(ctx))) ctx.send(line);
}

/**
 * RFC 7162 §3.2.7: the tagged OK of (UID) EXPUNGE carries the HIGHESTMODSEQ once the client
 * uses modseqs; everything up to it is reported first.
 */
async function done(ctx: SessionContext, text: string): Promise<Completion> {
  if (!condstoreOn(ctx)) return { text };
  await ctx.syncSelected(true);
  return { code: `${Code.HIGHESTMODSEQ} ${ctx.selected!.highestModseq}`, text };
}

/** RFC 9051 §6.4.3: EXPUNGE. */
export const EXPUNGE = command({
  parse: () => null,
  async run(ctx) {
    await expunge(ctx, null);
    return await done(ctx, "EXPUNGE completed");
  },
});

/** RFC 4315 §2.1: UID EXPUNGE sequence-set — only \Deleted messages among these UIDs. */
export const UID_EXPUNGE = command({
  parse(r) {
    r.space();
    return r.sequenceSet();
  },
  async run(ctx, set) {
    await expunge(ctx, set);
    return await done(ctx, "UID EXPUNGE completed");
  },
});
