/**
 * Submitting a message without an SMTP session (JMAP EmailSubmission, RFC 8621 §7): the
 * same steps as a message accepted on port 587, in the same order:
 * 1. the envelope sender and every From:/Sender: address must be owned by the user
 *    (`checkAuthors` here, which port 587 calls too) — else forbiddenMailFrom / forbiddenFrom;
 * 2. every recipient is routed (relaying allowed: the user is authenticated);
 * 3. the plugins' mail, rcpt and data hooks run with role "submission";
 * 4. Date / Message-ID are added when missing (RFC 6409 §8) with a Received field, and
 *    commit_message.ts (SMTP's last step too) runs the deliver hook, stores the local
 *    copies and queues the remote recipients (the queue DKIM-signs and runs its hooks).
 *
 * Invariant: nothing is stored or queued unless every check passed.
 *
 * @module
 */
import type { Account, QueueRecipient } from "../storage/mod.ts";
import type { ServerDeps } from "./deps.ts";
import { ownsAddress } from "./identity.ts";
import { authorFields } from "./author.ts";
import { type LocalCopy, refusalOf } from "./deliver_hook.ts";
import { commitMessage } from "./commit_message.ts";
import { receivedHeader, returnPathHeader, submissionFixups } from "./trace.ts";
import { concatBytes } from "../lib/bytes.ts";
import type { PluginResultSummary, SessionInfo } from "../plugins/sdk.ts";
import { addressOf } from "../plugins/engine/address.ts";

/** Why a submission was refused, in the terms of RFC 8621 §7.5 SetErrors. */
export type SubmissionRefusal =
  | { kind: "forbiddenFrom"; text: string }
  | { kind: "forbiddenMailFrom"; text: string }
  | { kind: "invalidRecipients"; text: string; recipients: string[] }
  | { kind: "noRecipients"; text: string }
  | { kind: "forbiddenToSend"; text: string };

export interface SubmissionInput {
  account: Account;
  /** Names this submission in headers and logs. */
  id: string;
  mailFrom: string;
  rcptTo: string[];
  message: Uint8Array;
  /** The client's address (for plugins and the Received field). */
  clientIp: string;
  tls: boolean;
  /** The protocol word for the Received field, e.g. "HTTP" / "HTTPS" (JMAP). */
  via: string;
}

export type SubmissionResult =
  | { ok: true; localAccounts: number; remoteRecipients: number; queueId: number | null }
  | { ok: false; refusal: SubmissionRefusal };

/** More From:/Sender: addresses than this are refused (as on port 587). */
const MAX_AUTHORS = 50;
const enc = new TextEncoder();

/** Why a message's authors were refused (the SMTP and JMAP sides word it each their way). */
export type AuthorRefusal =
  | { reason: "too_many" }
  | { reason: "unusable"; field: string }
  | { reason: "not_owned"; field: string; address: string };

/**
 * RFC 6409 §6.1 (the MSA may check the message's author against the authenticated user):
 * every address in From: and Sender: must be one the user owns (identity.ts). The one
 * check of port 587 and of JMAP EmailSubmission. `[submission] admins` may send as anyone.
 */
export async function checkAuthors(
  deps: Pick<ServerDeps, "router" | "config">,
  account: Account,
  message: Uint8Array,
): Promise<AuthorRefusal | null> {
  if (deps.config.submission.admins.includes(account.email)) return null;
  const fields = authorFields(message);
  // Each address costs a router lookup: a header naming more authors than any real message
  // does is refused outright instead of looked up one by one.
  if (fields.reduce((n, f) => n + f.addresses.length, 0) > MAX_AUTHORS) {
    return { reason: "too_many" };
  }
  for (const f of fields) {
    if (f.unusable) return { reason: "unusable", field: f.field };
    for (const address of f.addresses) {
      if (!(await ownsAddress(deps, account, address))) {
        return { reason: "not_owned", field: f.field, address };
      }
    }
  }
  return null;
}

/** Step 1 for JMAP: the envelope sender and the authors, or the SetError to answer. */
export async function checkSender(
  deps: ServerDeps,
  account: Account,
  mailFrom: string,
  message: Uint8Array,
): Promise<SubmissionRefusal | null> {
  if (deps.config.submission.admins.includes(account.email)) return null;
  if (mailFrom !== "" && !(await ownsAddress(deps, account, mailFrom))) {
    return { kind: "forbiddenMailFrom", text: "the envelope sender is not an address you own" };
  }
  const r = await checkAuthors(deps, account, message);
  if (r?.reason === "too_many") {
    return { kind: "forbiddenFrom", text: "too many From:/Sender: addresses" };
  }
  if (r?.reason === "unusable") {
    return { kind: "forbiddenFrom", text: `${r.field}: has no usable address` };
  }
  if (r) return { kind: "forbiddenFrom", text: `${r.field}: address not owned by you` };
  if (authorFields(message).length === 0) {
    return { kind: "forbiddenFrom", text: "the message has no From:" };
  }
  return null;
}

/** Steps 1–4: checks, hooks and the durable writes. Throws only when storage fails. */
export async function submitMessage(
  deps: ServerDeps,
  input: SubmissionInput,
): Promise<SubmissionResult> {
  const refused = await checkSender(deps, input.account, input.mailFrom, input.message);
  if (refused) return { ok: false, refusal: refused };
  if (input.rcptTo.length === 0) {
    return { ok: false, refusal: { kind: "noRecipients", text: "no recipients" } };
  }
  const copies = new Map<number, LocalCopy>();
  const remote = new Map<string, QueueRecipient>();
  const bad: string[] = [];
  for (const rcpt of input.rcptTo) {
    const r = await deps.router.resolve(rcpt, { mayRelay: true });
    if (r.kind === "reject") {
      bad.push(rcpt);
      continue;
    }
    for (const l of r.local) {
      if (!copies.has(l.accountId)) {
        copies.set(l.accountId, {
          accountId: l.accountId,
          account: l.email,
          recipient: rcpt,
          mailbox: "INBOX",
        });
      }
    }
    for (const a of r.remote) {
      if (!remote.has(a.toLowerCase())) {
        remote.set(a.toLowerCase(), { address: a, status: "pending", dsn: {} });
      }
    }
  }
  if (bad.length > 0) {
    return {
      ok: false,
      refusal: { kind: "invalidRecipients", text: "recipients refused", recipients: bad },
    };
  }
  const session: SessionInfo = {
    id: input.id,
    remoteIp: input.clientIp,
    role: "submission",
    tls: input.tls,
    user: input.account.email,
  };
  // Step 3: the plugins see what they would see on port 587.
  const hooked = await runHooks(deps, session, input);
  if (!hooked.ok) return hooked;
  let message = hooked.message;
  const now = deps.now();
  const received = receivedHeader({
    helo: "jmap",
    clientIp: input.clientIp,
    hostname: deps.config.hostname,
    protocol: input.via,
    id: input.id,
    for: input.rcptTo.length === 1 ? input.rcptTo[0] : undefined,
    date: now,
  });
  const fixups = submissionFixups(message, {
    hostname: deps.config.hostname,
    id: input.id,
    date: now,
  });
  message = concatBytes([enc.encode(fixups), message]);
  const done = await commitMessage(deps, {
    session,
    sender: input.mailFrom,
    localMessage: concatBytes([enc.encode(returnPathHeader(input.mailFrom) + received), message]),
    queueMessage: () => concatBytes([enc.encode(received), message]),
    copies: [...copies.values()],
    remote: [...remote.values()],
    meta: {
      messageId: input.id,
      envid: null,
      ret: null,
      requireTls: false,
      smtputf8: false,
      body: null,
      authenticatedAs: input.account.email,
      clientIp: input.clientIp,
      helo: "jmap",
    },
    now,
    results: hooked.results,
  });
  if (done.refused) {
    return { ok: false, refusal: { kind: "forbiddenToSend", text: done.refused.text } };
  }
  return {
    ok: true,
    localAccounts: done.localAccounts,
    remoteRecipients: remote.size,
    queueId: done.queueId,
  };
}

/** The mail, rcpt and data hooks; a refusing verdict becomes forbiddenToSend. */
async function runHooks(
  deps: ServerDeps,
  session: SessionInfo,
  input: SubmissionInput,
): Promise<
  | { ok: true; message: Uint8Array; results: PluginResultSummary[] }
  | { ok: false; refusal: SubmissionRefusal }
> {
  const host = deps.plugins;
  const results: PluginResultSummary[] = [];
  let message = input.message;
  if (!host) return { ok: true, message, results };
  const sender = addressOf(input.mailFrom);
  const recipients = input.rcptTo.map((r) => addressOf(r));
  const steps: Array<["mail" | "rcpt" | "data", Record<string, unknown>]> = [
    ["mail", { sender, recipients: [], params: {} }],
    ...recipients.map((r, i): ["rcpt", Record<string, unknown>] => [
      "rcpt",
      { sender, recipients: recipients.slice(0, i), rcpt: r },
    ]),
    ["data", { sender, recipients, message }],
  ];
  for (const [hook, fields] of steps) {
    if (!host.wants(hook)) continue;
    if (hook === "data") fields.message = message;
    const out = await host.run(hook, { session, results: [...results], ...fields });
    results.push(...out.results);
    const r = refusalOf(out);
    if (r) return { ok: false, refusal: { kind: "forbiddenToSend", text: r.text } };
    if (hook === "data" && out.message) message = out.message;
  }
  return { ok: true, message, results };
}
