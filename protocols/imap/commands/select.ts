/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3) with the CONDSTORE and QRESYNC select
 * parameters (RFC 7162 §3.1.8, §3.2.5).
 *
 * @module
 */
import type { MailboxChange } from "../../../storage/mod.ts";
import { Code } from "../codes.ts";
import {
  enableCondstore,
  parseQresyncParams,
  qresyncOn,
  type QresyncParams,
  uidFilter,
  vanishedEarlier,
} from "../condstore.ts";
import { type CommandHandler, type SessionContext } from "../context.ts";
import { bad, ParseError } from "../errors.ts";
import { existingMailbox } from "../mailbox_args.ts";
import { DELIMITER, toWire } from "../mailbox_name.ts";
import { flagList, str, untagged } from "../response.ts";
import { SelectedMailbox } from "../selected.ts";
import { specialUseAttrs } from "./list.ts";

interface SelectArgs {
  mailbox: string;
  /** RFC 7162 §3.1.8: (CONDSTORE). */
  condstore: boolean;
  /** RFC 7162 §3.2.5: (QRESYNC (...)). */
  qresync: QresyncParams | null;
}

function parse(r: Parameters<CommandHandler<SelectArgs>["parse"]>[0]): SelectArgs {
  r.space();
  const mailbox = r.astring("a mailbox name");
  let condstore = false;
  let qresync: QresyncParams | null = null;
  // RFC 4466 §2.1: select-params = SP "(" select-param *(SP select-param) ")".
  if (r.tryChar(" ")) {
    r.list(() => {
      const name = r.atom("a SELECT parameter").toUpperCase();
      if (name === "CONDSTORE") condstore = true;
      else if (name === "QRESYNC") {
        r.space();
        qresync = parseQresyncParams(r);
      } else throw new ParseError(`Unknown SELECT parameter ${name}`);
    }, false);
  }
  return { mailbox, condstore, qresync };
}

async function open(ctx: SessionContext, args: SelectArgs, readOnly: boolean) {
  const wire = args.mailbox;
  // RFC 7162 §3.2.5: the QRESYNC parameter needs ENABLE QRESYNC first; BAD otherwise.
  if (args.qresync && !qresyncOn(ctx)) throw bad("QRESYNC is not enabled");
  if (args.condstore) enableCondstore(ctx);
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
    view = await SelectedMailbox.open(ctx.deps, mb, readOnly);
    status = await ctx.deps.store.mailboxStatus(mb.id);
  } finally {
    stop();
  }
  for (const c of early) view.onChange(c);
  view.observeModseq(status.highestModseq);

  // RFC 9051 §7.3.5, §7.1: FLAGS and PERMANENTFLAGS.
  for (const line of view.flagsResponses()) ctx.send(line);
  ctx.send(untagged(`${view.exists} EXISTS`));
  if (!ctx.rev2) {
    // RFC 3501 §6.3.1: RECENT and the first unseen message (IMAP4rev1 only).
    ctx.send(untagged(`${view.recent.size} RECENT`));
    const firstUnseen = view.messages.findIndex((m) => !m.flags.includes("\\Seen"));
    if (firstUnseen >= 0) {
      ctx.send(untagged(`OK [${Code.UNSEEN} ${firstUnseen + 1}] First unseen`));
    }
  }
  ctx.send(untagged(`OK [${Code.UIDVALIDITY} ${mb.uidValidity}] UIDs valid`));
  const uidNext = Math.max(status.uidNext, view.maxUid + 1);
  ctx.send(untagged(`OK [${Code.UIDNEXT} ${uidNext}] Predicted next UID`));
  // RFC 7162 §3.1.2.1: every mailbox has persistent modseqs, so HIGHESTMODSEQ always.
  ctx.send(untagged(`OK [${Code.HIGHESTMODSEQ} ${view.highestModseq}] Highest`));
  if (ctx.rev2) {
    // RFC 9051 §6.3.2: a LIST response with the mailbox name as stored.
    const attrs = specialUseAttrs(mb.specialUse);
    ctx.send(
      untagged(`LIST (${attrs.join(" ")}) "${DELIMITER}" ${str(toWire(mb.name, true), true)}`),
    );
  }
  ctx.select(view);
  const q: QresyncParams | null = args.qresync;
  // RFC 7162 §3.2.5.1: with a matching UIDVALIDITY, report what changed since the
  // client's modseq; a mismatch means the client must resync by itself.
  if (q && q.uidValidity === mb.uidValidity) await resync(ctx, view, q);
  return readOnly
    ? { code: Code.READ_ONLY, text: "EXAMINE completed" }
    : { code: Code.READ_WRITE, text: "SELECT completed" };
}

/**
 * RFC 7162 §3.2.5.1: VANISHED (EARLIER) for UIDs expunged since the client's modseq, then
 * FETCH (UID FLAGS MODSEQ) for messages changed since — restricted to the known UIDs when
 * the client sent them. Our expunge history is complete, so seq-match-data is not needed.
 */
async function resync(ctx: SessionContext, view: SelectedMailbox, q: QresyncParams) {
  const known = uidFilter(q.knownUids, Math.max(view.maxUid, view.mailbox.uidNext));
  const store = ctx.deps.store;
  const gone = (await store.expungedSince(view.mailbox.id, q.modseq)).filter((u) =>
    known(u) && view.seqOf(u) === 0
  );
  for (const line of vanishedEarlier(gone)) ctx.send(line);
  const msgs = view.messages;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.modseq <= q.modseq || !known(m.uid)) continue;
    ctx.send(
      untagged(
        `${i + 1} FETCH (UID ${m.uid} FLAGS ${
          flagList(view.flagsOf(m, ctx.rev2))
        } MODSEQ (${m.modseq}))`,
      ),
    );
  }
}

/** RFC 9051 §6.3.2: SELECT mailbox [select-params]. */
export const SELECT: CommandHandler<SelectArgs> = {
  parse,
  run: (ctx, args) => open(ctx, args, false),
};

/** RFC 9051 §6.3.3: EXAMINE mailbox [select-params] — SELECT, read-only. */
export const EXAMINE: CommandHandler<SelectArgs> = {
  parse,
  run: (ctx, args) => open(ctx, args, true),
};
