/**
 * STATUS (RFC 9051 §6.3.11), also used by LIST-STATUS (RFC 5819).
 *
 * @module
 */
import type { Mailbox } from "../../../storage/mod.ts";
import { enableCondstore } from "../condstore.ts";
import { command, type SessionContext } from "../context.ts";
import { ParseError } from "../errors.ts";
import { existingMailbox } from "../mailbox_args.ts";
import { storageUnits } from "./quota.ts";
import type { ArgReader } from "../parser.ts";
import { str, untagged } from "../response.ts";
import { toWire } from "../mailbox_name.ts";

/** RFC 9051 §9 status-att (plus RECENT from RFC 3501). */
const STATUS_ITEMS = new Set([
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED", // RFC 9051
  "SIZE", // RFC 8438
  "HIGHESTMODSEQ", // RFC 7162 §3.1.6
  "DELETED-STORAGE", // RFC 9208 §4.2 (with QUOTA=RES-STORAGE), 1024-octet units
  "RECENT", // RFC 3501 §6.3.10: messages no session has claimed as \Recent yet
]);

/** "(" status-att *(SP status-att) ")", upper-cased and checked. */
export function parseStatusItems(r: ArgReader): string[] {
  return r.list(() => {
    const item = r.atom("a status item").toUpperCase();
    if (!STATUS_ITEMS.has(item)) throw new ParseError(`Unknown STATUS item ${item}`);
    return item;
  }, false);
}

/** The status-att-list for one mailbox: "MESSAGES 3 UNSEEN 1". */
export async function statusValues(
  ctx: SessionContext,
  mb: Mailbox,
  items: readonly string[],
): Promise<string> {
  // RFC 7162 §3.1: STATUS HIGHESTMODSEQ is a CONDSTORE enabling command.
  if (items.includes("HIGHESTMODSEQ")) enableCondstore(ctx);
  const st = await ctx.deps.store.mailboxStatus(mb.id);
  let deleted = 0;
  let deletedOctets = 0;
  if (items.includes("DELETED") || items.includes("DELETED-STORAGE")) {
    const msgs = await ctx.deps.store.listMessages(mb.id);
    for (const m of msgs) {
      if (!m.flags.includes("\\Deleted")) continue;
      deleted++;
      deletedOctets += m.size;
    }
  }
  const values: Record<string, number> = {
    MESSAGES: st.messages,
    UIDNEXT: st.uidNext,
    UIDVALIDITY: st.uidValidity,
    UNSEEN: st.unseen,
    DELETED: deleted,
    "DELETED-STORAGE": storageUnits(deletedOctets),
    SIZE: st.size,
    HIGHESTMODSEQ: st.highestModseq,
    RECENT: items.includes("RECENT") ? await recentCount(ctx, mb, st.uidNext) : 0,
  };
  return items.map((i) => `${i} ${values[i]}`).join(" ");
}

/** RFC 3501 §6.3.10: the messages that are \Recent to no session yet (core/recent.ts). */
async function recentCount(ctx: SessionContext, mb: Mailbox, uidNext: number): Promise<number> {
  const first = ctx.deps.recent.firstUnclaimed(mb);
  if (first >= uidNext) return 0;
  return (await ctx.deps.store.listMessages(mb.id)).filter((m) => m.uid >= first).length;
}

/** `* STATUS name (...)` for one mailbox. */
export async function statusResponse(
  ctx: SessionContext,
  mb: Mailbox,
  items: readonly string[],
): Promise<string> {
  const name = str(toWire(mb.name, ctx.utf8), ctx.utf8);
  return untagged(`STATUS ${name} (${await statusValues(ctx, mb, items)})`);
}

/** RFC 9051 §6.3.11: STATUS mailbox (items). */
export const STATUS = command({
  parse(r) {
    r.space();
    const mailbox = r.astring("a mailbox name");
    r.space();
    return { mailbox, items: parseStatusItems(r) };
  },
  async run(ctx, { mailbox, items }) {
    const mb = await existingMailbox(ctx, mailbox);
    // RFC 9051 §6.3.11: STATUS of the selected mailbox is allowed (if not efficient); the
    // pending updates are reported by the session's post-command sync.
    ctx.send(await statusResponse(ctx, mb, items));
  },
});
