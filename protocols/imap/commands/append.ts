/**
 * APPEND (RFC 9051 §6.3.12) with UIDPLUS APPENDUID (RFC 4315 §3).
 *
 * The literal was already size-checked by the session (NO [TOOBIG] before it was sent, or
 * skipped unread): by the time this runs, the message is in memory and within the limit.
 *
 * @module
 */
import { Code } from "../codes.ts";
import { command } from "../context.ts";
import { no, ParseError } from "../errors.ts";
import { targetMailbox } from "../mailbox_args.ts";
import { validateStoreFlags } from "./store.ts";
import { appendDeliverHook } from "../../../plugins/imap.ts";

/** RFC 9051 §6.3.12: APPEND mailbox [SP flag-list] [SP date-time] SP literal. */
export const APPEND = command({
  parse(r) {
    r.space();
    const mailbox = r.astring("a mailbox name");
    r.space();
    let flags: string[] = [];
    let date: number | null = null;
    if (r.peek() === "(") {
      flags = r.flagList();
      r.space();
    }
    if (r.peek() === '"') {
      date = r.dateTime();
      r.space();
    }
    if (r.peek() !== "{" && r.peek() !== "~") {
      throw new ParseError("APPEND needs the message as a literal");
    }
    const message = r.literal();
    // RFC 3502 MULTIAPPEND is not advertised: one message per command.
    return { mailbox, flags, date, message };
  },
  async run(ctx, { mailbox, flags, date, message }) {
    const max = ctx.deps.config.limits.maxMessageBytes;
    if (message.length > max) throw no("Message too large", Code.TOOBIG);
    if (message.length === 0) throw no("Empty message", Code.CANNOT);
    const mb = await targetMailbox(ctx, mailbox);
    // Plugins (deliver hook, source "append"): may transform the message, drop it or refuse.
    const plugged = await appendDeliverHook(ctx, mb, message, flags);
    if (plugged.discard) return { text: "APPEND completed" };
    const placed = await ctx.deps.store.append(mb.id, plugged.message, {
      flags: validateStoreFlags(flags),
      internalDate: date ?? ctx.deps.now(),
    });
    // RFC 9051 §6.3.12: appending to the selected mailbox shows up as EXISTS.
    if (ctx.selected?.mailbox.id === mb.id) ctx.selected.noteAppended(placed.uid);
    return {
      code: `${Code.APPENDUID} ${placed.uidValidity} ${placed.uid}`,
      text: "APPEND completed",
    };
  },
});
