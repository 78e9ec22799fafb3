/**
 * The last step of accepting a message, shared by SMTP (every role) and JMAP
 * EmailSubmission: the deliver hook for the local copies (deliver_hook.ts), then one
 * `store.deliver` per planned write, one `store.enqueue` for the remote recipients and one
 * per plugin redirect or automatic reply (Sieve), all started in the same tick so the store commits them together.
 *
 * Invariant: resolves only when every write is durably committed (the caller acknowledges
 * after that); throws when storage fails; stores nothing when a plugin refuses.
 *
 * @module
 */
import type { QueueRecipient } from "../storage/mod.ts";
import type { ServerDeps } from "./deps.ts";
import { type LocalCopy, planDelivery, type Refusal } from "./deliver_hook.ts";
import type { PluginResultSummary, SessionInfo } from "../plugins/sdk.ts";
import { observeAccepted } from "./reports/observe.ts";
import { boundDeliveryKeywords } from "./mailbox_keywords.ts";

export interface CommitInput {
  session: SessionInfo;
  /** The envelope sender ("" for the null sender). */
  sender: string;
  /** The bytes a local copy stores (trace fields included). */
  localMessage: Uint8Array;
  /** The bytes the queue sends on (Received, no Return-Path); built only when queued. */
  queueMessage: () => Uint8Array;
  copies: LocalCopy[];
  remote: QueueRecipient[];
  /** The queue entry's meta (core/queue reads messageId, envid, authenticatedAs, …). */
  meta: Record<string, unknown>;
  now: number;
  /** The data hook's score and results, for the deliver hook. */
  score?: number;
  results?: PluginResultSummary[];
}

export type CommitResult =
  | { refused: Refusal }
  | {
    refused: null;
    localAccounts: number;
    queueId: number | null;
    /** The deliver hook's results, for the log line. */
    pluginResults: PluginResultSummary[];
  };

/** Plans, then writes; see the module doc. */
export async function commitMessage(deps: ServerDeps, input: CommitInput): Promise<CommitResult> {
  const plan = await planDelivery(deps.plugins, {
    session: input.session,
    sender: input.sender,
    message: input.localMessage,
    copies: input.copies,
    score: input.score,
    results: input.results,
  });
  if (plan.refused) return { refused: plan.refused };
  const targets = plan.writes.flatMap((w) => w.targets);
  await boundDeliveryKeywords(deps.store, deps.mailboxKeywords, targets);
  // All writes start in the same tick: the store commits them together. If one fails the
  // client retries the whole message: a possible duplicate is better than a lost message.
  const messageId = input.meta.messageId;
  const [, queued] = await Promise.all([
    Promise.all(plan.writes.map((w) => deps.store.deliver(w.message, w.targets))),
    input.remote.length > 0
      ? deps.store.enqueue(input.queueMessage(), {
        sender: input.sender,
        recipients: input.remote,
        nextAttemptAt: input.now,
        meta: input.meta,
      })
      : Promise.resolve(null),
    // A plugin's redirect (Sieve): the message as received, its sender rewritten with SRS
    // (core/srs.ts) so SPF passes at the next hop and bounces reach the original sender;
    // the account that asked when SRS cannot apply; the null sender stays null.
    ...plan.forwards.map((f) =>
      deps.store.enqueue(input.queueMessage(), {
        sender: forwardSender(deps, input.sender, f.sender),
        recipients: f.recipients.map((address) => ({ address, status: "pending" as const })),
        nextAttemptAt: input.now,
        meta: { messageId, redirectedBy: f.sender, clientIp: input.session.remoteIp },
      })
    ),
    // Automatic replies (Sieve vacation): null envelope sender, so nothing answers them
    // (RFC 3834 §3.1.7 via RFC 5230 §5.8).
    ...plan.replies.map((r) =>
      deps.store.enqueue(r.message, {
        sender: "",
        recipients: [{ address: r.to, status: "pending" as const }],
        nextAttemptAt: input.now,
        meta: { messageId, autoReply: true },
      })
    ),
  ]);
  // DMARC aggregate counts and received DMARC reports (core/reports/): after the commit.
  void observeAccepted(deps, {
    session: input.session,
    sender: input.sender,
    message: input.localMessage,
    results: input.results,
    localRecipients: input.copies.map((c) => c.recipient),
    now: input.now,
  });
  return {
    refused: null,
    localAccounts: targets.length,
    queueId: queued?.id ?? null,
    pluginResults: plan.results,
  };
}

/** The envelope sender of a forwarded copy (RFC 5228 §4.2 leaves it to us). */
function forwardSender(deps: ServerDeps, original: string, account: string): string {
  if (original === "") return "";
  const domain = account.slice(account.lastIndexOf("@") + 1);
  return deps.router.srs?.forward(original, domain) ?? account;
}
