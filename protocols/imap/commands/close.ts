/**
 * CLOSE (RFC 9051 §6.4.1) and UNSELECT (RFC 3691, RFC 9051 §6.4.2).
 *
 * @module
 */
import { noArgs } from "../context.ts";

/** RFC 9051 §6.4.1: silently expunge \Deleted messages (unless read-only), then deselect. */
export const CLOSE = noArgs(async (ctx) => {
  const view = ctx.selected!;
  if (!view.readOnly) {
    // Ask the store, not the view: the view's flags may lag behind other sessions.
    const current = await ctx.deps.store.listMessages(view.mailbox.id);
    const deleted = current.filter((m) => m.flags.includes("\\Deleted")).map((m) => m.uid);
    if (deleted.length > 0) await ctx.deps.store.expunge(view.mailbox.id, deleted);
  }
  ctx.deselect();
  return { text: "CLOSE completed" };
});

/** RFC 9051 §6.4.2: deselect without expunging. */
export const UNSELECT = noArgs((ctx) => {
  ctx.deselect();
  return Promise.resolve({ text: "UNSELECT completed" });
});
