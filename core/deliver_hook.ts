/**
 * The deliver hook: once per local account, before a message is stored for it (SMTP), or
 * before an IMAP APPEND stores it. Turns the plugins' outcomes into a storage plan.
 *
 * Invariants:
 * - One durable commit per message stays possible: every copy whose bytes no plugin changed
 *   shares one `store.deliver` (one blob); only a copy a plugin transformed (encrypted, say)
 *   gets a write of its own. The caller issues all writes in the same tick, so the store's
 *   group commit puts them in one transaction.
 * - A refusing verdict (reject, tempfail, disconnect; a plugin failure under
 *   on_error = "tempfail") for any copy refuses the whole message: nothing is stored. SMTP
 *   answers once per message after DATA, so one recipient's copy cannot be refused alone.
 * - `discard` drops that account's copy only.
 * - A plugin's `redirect` forwards that account's copy through the queue (sender: SRS of
 *   the original sender, see commit_message.ts), in the same commit as the writes; also
 *   after `discard`.
 * - A plugin's `reply` goes only to this message's (non-null) envelope sender.
 * - A plugin's `copies` file that account's copy in several mailboxes, with flags, and may
 *   create a missing mailbox; without them the copy goes to the chosen `mailbox`.
 * - With no plugin declaring `deliver`, no context is built and the plan is one write.
 *
 * @module
 */
import type { DeliveryTarget } from "../storage/mod.ts";
import type { HookOutcome, PluginHost } from "../plugins/engine/host.ts";
import type { PluginResultSummary, SessionInfo } from "../plugins/sdk.ts";
import { addressOf } from "../plugins/engine/address.ts";

/** One local account a message is to be stored for. */
export interface LocalCopy {
  accountId: number;
  /** The account's address (lower case). */
  account: string;
  /** The recipient address as the client gave it (alias, +tag ...). */
  recipient: string;
  /** The mailbox chosen so far (INBOX, or the data hook's pick). */
  mailbox: string;
}

/** A refusing verdict, as the caller's protocol will word it. */
export interface Refusal {
  code: number;
  enhanced: string;
  text: string;
  plugin?: string;
}

/** What to store: each write is one `store.deliver(message, targets)`. */
export interface DeliveryPlan {
  writes: Array<{ message: Uint8Array; targets: DeliveryTarget[] }>;
  /** Set when a plugin refused: store nothing, answer this. */
  refused: Refusal | null;
  /** Every deliver-hook result, for the message's log line. */
  results: PluginResultSummary[];
  /**
   * Messages a plugin forwards (a Sieve redirect): the caller enqueues the message as
   * received (without Return-Path, before any plugin's change), sender SRS-rewritten.
   */
  forwards: Array<{ sender: string; recipients: string[] }>;
  /**
   * Automatic replies (a Sieve vacation) to the message's envelope sender: the caller
   * enqueues each with the null envelope sender (RFC 3834), so nothing answers them.
   */
  replies: Array<{ to: string; message: Uint8Array }>;
}

/** What the SMTP side knows when it plans local delivery. */
export interface DeliverInput {
  session: SessionInfo;
  sender: string;
  /** The message exactly as it would be stored. */
  message: Uint8Array;
  copies: LocalCopy[];
  /** The data hook's total score and results (later plugins may read them). */
  score?: number;
  results?: PluginResultSummary[];
}

/** The refusal in an outcome, or null. */
export function refusalOf(out: HookOutcome): Refusal | null {
  if (out.action !== "reject" && out.action !== "tempfail" && out.action !== "disconnect") {
    return null;
  }
  return { code: out.code!, enhanced: out.enhanced!, text: out.text!, plugin: out.decidedBy };
}

/** Runs the deliver hook for every copy (concurrently) and groups the writes. */
export async function planDelivery(
  host: PluginHost | undefined,
  input: DeliverInput,
): Promise<DeliveryPlan> {
  const target = (c: LocalCopy): DeliveryTarget => ({ accountId: c.accountId, mailbox: c.mailbox });
  if (input.copies.length === 0) {
    return { writes: [], refused: null, results: [], forwards: [], replies: [] };
  }
  if (!host?.wants("deliver")) {
    return {
      writes: [{ message: input.message, targets: input.copies.map(target) }],
      refused: null,
      results: [],
      forwards: [],
      replies: [],
    };
  }
  const outcomes = await Promise.all(input.copies.map((c) =>
    host.run("deliver", {
      session: input.session,
      results: input.results ?? [],
      ...(input.score !== undefined ? { score: input.score } : {}),
      source: "smtp",
      sender: addressOf(input.sender),
      recipient: addressOf(c.recipient),
      account: c.account,
      mailbox: c.mailbox,
      message: input.message,
    })
  ));
  const results = outcomes.flatMap((o) => o.results);
  const shared: DeliveryTarget[] = [];
  const writes: DeliveryPlan["writes"] = [];
  const forwards: DeliveryPlan["forwards"] = [];
  const replies: DeliveryPlan["replies"] = [];
  for (const [i, out] of outcomes.entries()) {
    const refused = refusalOf(out);
    if (refused) return { writes: [], refused, results, forwards: [], replies: [] };
    if (out.redirect?.length) {
      forwards.push({ sender: input.copies[i].account, recipients: out.redirect });
    }
    // Only to the sender of this very message: a plugin cannot make us mail anyone else.
    if (out.reply && input.sender !== "" && sameAddress(out.reply.to, input.sender)) {
      replies.push({ to: input.sender, message: new TextEncoder().encode(out.reply.message) });
    }
    if (out.action === "discard") continue;
    const base = target(input.copies[i]);
    // A plugin's `copies` (a Sieve filter's fileinto/keep list) replace the one mailbox.
    const ts: DeliveryTarget[] = out.copies
      ? out.copies.map((c) => ({ ...base, mailbox: c.mailbox, flags: c.flags, create: c.create }))
      : [{ ...base, mailbox: out.mailbox ?? base.mailbox }];
    if (out.message) writes.push({ message: out.message, targets: ts });
    else shared.push(...ts);
  }
  if (shared.length > 0) writes.unshift({ message: input.message, targets: shared });
  return { writes, refused: null, results, forwards, replies };
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
