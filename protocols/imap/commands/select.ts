/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3).
 *
 * @module
 */
import type { MailboxChange } from "../../../storage/mod.ts";
import { Code, SYSTEM_FLAGS } from "../codes.ts";
import { type CommandHandler, type SessionContext } from "../context.ts";
import { ParseError } from "../errors.ts";
import { existingMailbox } from "../mailbox_args.ts";
import { DELIMITER, toWire } from "../mailbox_name.ts";
import { flagList, str, untagged } from "../response.ts";
import { SelectedMailbox } from "../selected.ts";
import { specialUseAttrs } from "./list.ts";

interface SelectArgs {
  mailbox: string;
}

function parse(r: Parameters<CommandHandler<SelectArgs>["parse"]>[0]): SelectArgs {
  r.space();
  const mailbox = r.astring("a mailbox name");
  // RFC 4466 §2.1 select-params: none are supported yet (CONDSTORE/QRESYNC come later).
  if (r.tryChar(" ")) throw new ParseError("SELECT parameters are not supported");
  return { mailbox };
}

async function open(ctx: SessionContext, wire: string, readOnly: boolean) {
  // RFC 9051 §6.3.2: a SELECT first deselects; RFC 7162 §3.2.11 [CLOSED] marks the point.
  if (ctx.selected) {
    ctx.deselect();
    ctx.send(untagged(`OK [${Code.CLOSED}] Previous mailbox closed`));
  }
  const mb = await existingMailbox(ctx, wire);
  // Changes committed while the messages load are replayed into the view afterwards.
  const early: MailboxChange[] = [];
  const stop = ctx.onChange((c) => early.push(c));
  let view: SelectedMailbox;
  let status;
  try {
    view = await SelectedMailbox.open(ctx.deps.store, mb, readOnly);
    status = await ctx.deps.store.mailboxStatus(mb.id);
  } finally {
    stop();
  }
  for (const c of early) view.onChange(c);

  const keywords = view.keywords();
  const flags = [...SYSTEM_FLAGS, ...keywords];
  ctx.send(untagged(`FLAGS ${flagList(flags)}`));
  // RFC 9051 §7.1: PERMANENTFLAGS; "\*" — clients may create new keywords.
  const permanent = readOnly ? [] : [...SYSTEM_FLAGS, ...keywords, "\\*"];
  ctx.send(untagged(`OK [${Code.PERMANENTFLAGS} ${flagList(permanent)}] Flags permitted`));
  ctx.send(untagged(`${view.exists} EXISTS`));
  if (!ctx.rev2) {
    // RFC 3501 §6.3.1: RECENT and the first unseen message (IMAP4rev1 only).
    ctx.send(untagged(`0 RECENT`));
    const firstUnseen = view.messages.findIndex((m) => !m.flags.includes("\\Seen"));
    if (firstUnseen >= 0) {
      ctx.send(untagged(`OK [${Code.UNSEEN} ${firstUnseen + 1}] First unseen`));
    }
  }
  ctx.send(untagged(`OK [${Code.UIDVALIDITY} ${mb.uidValidity}] UIDs valid`));
  const uidNext = Math.max(status.uidNext, view.maxUid + 1);
  ctx.send(untagged(`OK [${Code.UIDNEXT} ${uidNext}] Predicted next UID`));
  if (ctx.rev2) {
    // RFC 9051 §6.3.2: a LIST response with the mailbox name as stored.
    const attrs = specialUseAttrs(mb.specialUse);
    ctx.send(
      untagged(`LIST (${attrs.join(" ")}) "${DELIMITER}" ${str(toWire(mb.name, true), true)}`),
    );
  }
  ctx.select(view);
  return readOnly
    ? { code: Code.READ_ONLY, text: "EXAMINE completed" }
    : { code: Code.READ_WRITE, text: "SELECT completed" };
}

/** RFC 9051 §6.3.2: SELECT mailbox. */
export const SELECT: CommandHandler<SelectArgs> = {
  parse,
  run: (ctx, { mailbox }) => open(ctx, mailbox, false),
};

/** RFC 9051 §6.3.3: EXAMINE mailbox — SELECT, read-only. */
export const EXAMINE: CommandHandler<SelectArgs> = {
  parse,
  run: (ctx, { mailbox }) => open(ctx, mailbox, true),
};
