/**
 * Turns an accepted message into store writes: one `store.deliver` for every local
 * recipient (each to INBOX) and one `store.enqueue` for the remote ones. Resolves only when
 * both are durably committed; the caller replies 250 after that, 451 when this throws.
 *
 * Local copies get Return-Path and Received (RFC 5321 §4.4); queued copies only Received
 * (Return-Path is added by the final delivery MTA). Submitted messages get Date and
 * Message-ID when missing (RFC 6409 §8).
 *
 * @module
 */
import type { ServerDeps } from "../../core/deps.ts";
import type { Account, QueueRecipient } from "../../storage/mod.ts";
import type { AcceptedRecipient, Envelope, SmtpRole } from "./context.ts";
import { encodeXtext } from "./parser.ts";
import {
  receivedHeader,
  returnPathHeader,
  submissionFixups,
  withProtocol,
} from "../../core/trace.ts";
export { newMessageId } from "../../core/trace.ts";
import { reply, SmtpError } from "./replies.ts";
import type { LocalCopy } from "../../core/deliver_hook.ts";
import { commitMessage } from "../../core/commit_message.ts";
import type { PluginResultSummary } from "../../plugins/sdk.ts";
import { concatBytes } from "../../lib/bytes.ts";

const enc = new TextEncoder();

/** A message at the end of DATA/BDAT, with what we know about its transaction. */
export interface AcceptedMessage {
  /** Our id for it: in the Received header, the log line and the 250 reply. */
  id: string;
  role: SmtpRole;
  envelope: Envelope;
  data: Uint8Array;
  helo: string;
  esmtp: boolean;
  clientIp: string;
  tls: { protocol: string; cipher: string } | null;
  account: Account | null;
  /** Mailbox for the local copies (a plugin's choice); default INBOX. */
  mailbox?: string;
  /** What the deliver hook sees of the session and of the data hook. */
  plugins?: { sessionId: string; score: number; results: PluginResultSummary[] };
}

/** What was written. */
export interface DeliveryResult {
  localAccounts: number;
  remoteRecipients: number;
  queueId: number | null;
  /** The deliver hook's results, for the log line. */
  pluginResults: PluginResultSummary[];
}

/** A transaction reached commit with no mailbox and no queue recipient: never acknowledged. */
export class NoDestinationError extends Error {
  constructor(id: string, recipients: string[]) {
    super(`message ${id} has no destination (recipients: ${recipients.join(",") || "none"})`);
    this.name = "NoDestinationError";
  }
}

/** Queue recipients for the remote destinations, DSN parameters kept (RFC 3461). */
export function queueRecipients(recipients: AcceptedRecipient[]): QueueRecipient[] {
  const out = new Map<string, QueueRecipient>();
  for (const r of recipients) {
    for (const address of r.remote) {
      if (out.has(address.toLowerCase())) continue;
      // RFC 3461 §4.2: ORCPT is the original recipient; for an alias expansion we supply it.
      const orcpt = r.dsn.orcpt ??
        (address.toLowerCase() !== r.address.toLowerCase()
          ? `rfc822;${encodeXtext(r.address)}`
          : null);
      const dsn: Record<string, unknown> = {};
      if (r.dsn.notify) dsn.notify = r.dsn.notify;
      if (orcpt) dsn.orcpt = orcpt;
      out.set(address.toLowerCase(), { address, status: "pending", dsn });
    }
  }
  return [...out.values()];
}

/** Stores and queues one message; throws when storage fails (nothing may be acknowledged). */
export async function deliverMessage(
  deps: ServerDeps,
  msg: AcceptedMessage,
): Promise<DeliveryResult> {
  const now = deps.now();
  const env = msg.envelope;
  const sender = env.sender?.address ?? "";
  const received = receivedHeader({
    helo: msg.helo,
    clientIp: msg.clientIp,
    hostname: deps.config.hostname,
    protocol: withProtocol({
      esmtp: msg.esmtp,
      tls: msg.tls !== null,
      auth: msg.account !== null,
      utf8: env.params.smtputf8,
    }),
    id: msg.id,
    for: env.recipients.length === 1 ? env.recipients[0].address : undefined,
    tls: msg.tls,
    date: now,
  });
  const fixups = msg.role === "mx"
    ? ""
    : submissionFixups(msg.data, { hostname: deps.config.hostname, id: msg.id, date: now });
  const body = concatBytes([enc.encode(fixups), msg.data]);

  const copies = new Map<number, LocalCopy>();
  for (const r of env.recipients) {
    for (const l of r.local) {
      if (copies.has(l.accountId)) continue;
      const mailbox = msg.mailbox ?? "INBOX";
      copies.set(l.accountId, {
        accountId: l.accountId,
        account: l.email,
        recipient: r.address,
        mailbox,
      });
    }
  }
  const remote = queueRecipients(env.recipients);
  // The invariant behind every 250: a message goes somewhere. The router refuses a recipient
  // that reaches no one, so this only fires on a bug — and then the client keeps the message.
  if (copies.size === 0 && remote.length === 0) {
    throw new NoDestinationError(msg.id, env.recipients.map((r) => r.address));
  }
  // Plugins (deliver hook, once per local account): may pick the mailbox, transform or drop
  // that account's copy, or refuse the whole message. Unchanged copies share one blob.
  // Both the local copies and the queue entry must commit before 250 (commit_message.ts).
  const done = await commitMessage(deps, {
    session: {
      id: msg.plugins?.sessionId ?? msg.id,
      remoteIp: msg.clientIp,
      role: msg.role,
      tls: msg.tls !== null,
      helo: msg.helo,
      ...(msg.account ? { user: msg.account.email } : {}),
    },
    sender,
    localMessage: concatBytes([enc.encode(returnPathHeader(sender) + received), body]),
    queueMessage: () => concatBytes([enc.encode(received), body]),
    copies: [...copies.values()],
    remote,
    meta: {
      messageId: msg.id,
      envid: env.params.envid,
      ret: env.params.ret,
      requireTls: env.params.requireTls,
      smtputf8: env.params.smtputf8,
      body: env.params.body,
      authenticatedAs: msg.account?.email ?? null,
      clientIp: msg.clientIp,
      helo: msg.helo,
    },
    now,
    score: msg.plugins?.score,
    results: msg.plugins?.results,
  });
  if (done.refused) {
    const r = done.refused;
    throw new SmtpError(reply(r.code, r.enhanced, r.text), { bad: false });
  }
  return {
    localAccounts: done.localAccounts,
    remoteRecipients: remote.length,
    queueId: done.queueId,
    pluginResults: done.pluginResults,
  };
}
