/**
 * APPEND (RFC 9051 §6.3.12) with UIDPLUS APPENDUID (RFC 4315 §3), MULTIAPPEND (RFC 3502),
 * binary literals `~{n}` (RFC 3516 §4.4) and the UTF8 data item (RFC 6855 §4).
 *
 * The literals were already size-checked by the session (NO [TOOBIG] before they were sent,
 * or skipped unread): by the time this runs, the messages are in memory and within limits.
 *
 * MULTIAPPEND is all or nothing (RFC 3502 §6.3.11): the quota is checked for all messages
 * first; if a later message still fails, the ones already stored are expunged again before
 * the NO. Other sessions may glimpse them in between; a crash in between would keep them.
 *
 * @module
 */
import type { Placed } from "../../../storage/mod.ts";
import { appendDeliverHook } from "../hooks.ts";
import { Code } from "../codes.ts";
import { command, type SessionContext } from "../context.ts";
import { no, ParseError } from "../errors.ts";
import { accountOf, targetMailbox } from "../mailbox_args.ts";
import type { ArgReader } from "../parser.ts";
import { compactSet } from "../response.ts";
import { encodeBinaryParts } from "../binary.ts";
import { validateStoreFlags } from "./store.ts";
import { checkMailboxKeywords, checkMessageKeywords } from "../keyword_limits.ts";
import { hasKeyword, noteKeywords } from "../../../core/mailbox_keywords.ts";

/** One message of an APPEND. */
interface AppendItem {
  flags: string[];
  date: number | null;
  message: Uint8Array;
}

/** RFC 3502 §6.3.11: [SP flag-list] [SP date-time] SP append-data, the SP already read. */
function parseItem(r: ArgReader): AppendItem {
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
  if (r.peek() === "U" || r.peek() === "u") {
    // RFC 6855 §4: append-data =/ "UTF8" SP "(" literal8 ")".
    const word = r.atom("UTF8").toUpperCase();
    if (word !== "UTF8") throw new ParseError(`Unexpected ${word} in APPEND`);
    r.space();
    r.expectChar("(");
    if (r.peek() !== "~" && r.peek() !== "{") throw new ParseError("UTF8 needs a literal");
    const message = r.literal();
    r.expectChar(")");
    return { flags, date, message };
  }
  if (r.peek() !== "{" && r.peek() !== "~") {
    throw new ParseError("APPEND needs the message as a literal");
  }
  return { flags, date, message: r.literal() };
}

/** Refuses a MULTIAPPEND the account's quota cannot hold, before storing anything. */
async function checkQuota(ctx: SessionContext, items: readonly AppendItem[]): Promise<void> {
  const store = ctx.deps.store;
  const id = accountOf(ctx).id;
  const limit = (await store.getAccountById(id))?.quotaBytes ?? null;
  if (limit === null) return;
  const total = items.reduce((n, i) => n + i.message.length, 0);
  if (await store.accountUsage(id) + total > limit) {
    throw no("Quota exceeded", Code.OVERQUOTA);
  }
}

/** RFC 9051 §6.3.12 / RFC 3502: APPEND mailbox 1*(SP [flag-list] [SP date-time] SP literal). */
export const APPEND = command({
  parse(r) {
    r.space();
    const mailbox = r.astring("a mailbox name");
    r.space();
    const items = [parseItem(r)];
    // RFC 3502 §6.3.11: further messages, each after a SP.
    while (r.tryChar(" ")) items.push(parseItem(r));
    return { mailbox, items };
  },
  async run(ctx, { mailbox, items }) {
    const max = ctx.deps.config.limits.maxMessageBytes;
    for (const it of items) {
      if (it.message.length > max) throw no("Message too large", Code.TOOBIG);
      if (it.message.length === 0) throw no("Empty message", Code.CANNOT);
    }
    const flagSets = items.map((it) => validateStoreFlags(it.flags));
    const mb = await targetMailbox(ctx, mailbox);
    if (flagSets.some(hasKeyword)) {
      const known = await ctx.deps.mailboxKeywords.complete(ctx.deps.store, mb);
      for (const flags of flagSets) checkMessageKeywords(ctx, flags, [[]]);
      checkMailboxKeywords(ctx, flagSets.flat(), known);
    }
    if (items.length > 1) await checkQuota(ctx, items);
    const store = ctx.deps.store;
    const placed: Placed[] = [];
    let discarded = false;
    try {
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        // Plugins (deliver hook, source "append"): may transform the message, drop it or refuse.
        // RFC 3516 §4.4: parts holding NUL (binary content) are stored base64-encoded.
        const message = encodeBinaryParts(it.message);
        const plugged = await appendDeliverHook(ctx, mb, message, it.flags);
        if (plugged.discard) {
          discarded = true;
          continue;
        }
        placed.push(
          await store.append(mb.id, plugged.message, {
            flags: flagSets[i],
            internalDate: it.date ?? ctx.deps.now(),
          }),
        );
      }
    } catch (e) {
      // RFC 3502 §6.3.11: if any message cannot be appended, none are.
      if (placed.length > 0) await store.expunge(mb.id, placed.map((p) => p.uid)).catch(() => {});
      throw e;
    }
    if (placed.length > 0) noteKeywords(ctx.deps.mailboxKeywords.of(mb), flagSets.flat());
    // RFC 9051 §6.3.12: appending to the selected mailbox shows up as EXISTS.
    if (ctx.selected?.mailbox.id === mb.id) {
      for (const p of placed) ctx.selected.noteAppended(p.uid);
    }
    if (placed.length === 0 || discarded) return { text: "APPEND completed" };
    // RFC 4315 §3 / RFC 3502 §6.3.11: APPENDUID with the UIDs in message order.
    return {
      code: `${Code.APPENDUID} ${placed[0].uidValidity} ${compactSet(placed.map((p) => p.uid))}`,
      text: "APPEND completed",
    };
  },
});
