/**
 * Submitting a message without an SMTP session (JMAP EmailSubmission, RFC 8621 §7): the
 * same steps as a message accepted on port 587, in the same order:
 * 1. the envelope sender and every From:/Sender: address must be owned by the user
 *    (core/identity.ts, core/author.ts) — else `forbiddenFrom`;
 * 2. every recipient is routed (relaying allowed: the user is authenticated);
 * 3. the plugins' mail, rcpt and data hooks run with role "submission";
 * 4. Date / Message-ID are added when missing (RFC 6409 §8) with a Received field, local
 *    copies go through the deliver hook and the store, remote recipients to the queue
 *    (which DKIM-signs and runs the queue hooks), all written in one tick.
 *
 * Invariant: nothing is stored or queued unless every check passed.
 *
 * @module
 */
import type { Account, DeliveryTarget, QueueRecipient } from "../storage/mod.ts";
import type { ServerDeps } from "./deps.ts";
import { ownsAddress } from "./identity.ts";
import { authorFields } from "./author.ts";
import { type LocalCopy, planDelivery, refusalOf } from "./deliver_hook.ts";
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

/** Step 1: the identity check of port 587, or the refusal. */
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
  const fields = authorFields(message);
  if (fields.reduce((n, f) => n + f.addresses.length, 0) > MAX_AUTHORS) {
    return { kind: "forbiddenFrom", text: "too many From:/Sender: addresses" };
  }
  for (const f of fields) {
    if (f.unusable) return { kind: "forbiddenFrom", text: `${f.field}: has no usable address` };
    for (const a of f.addresses) {
      if (!(await ownsAddress(deps, account, a))) {
        return { kind: "forbiddenFrom", text: `${f.field}: address not owned by you` };
      }
    }
  }
  if (fields.length === 0) return { kind: "forbiddenFrom", text: "the message has no From:" };
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
  const plan = await planDelivery(deps.plugins, {
    session,
    sender: input.mailFrom,
    message: concatBytes([enc.encode(returnPathHeader(input.mailFrom) + received), message]),
    copies: [...copies.values()],
    results: hooked.results,
  });
  if (plan.refused) {
    return { ok: false, refusal: { kind: "forbiddenToSend", text: plan.refused.text } };
  }
  const targets: DeliveryTarget[] = plan.writes.flatMap((w) => w.targets);
  // All writes start in the same tick: the store commits them together.
  const [, queued] = await Promise.all([
    Promise.all(plan.writes.map((w) => deps.store.deliver(w.message, w.targets))),
    remote.size > 0
      ? deps.store.enqueue(concatBytes([enc.encode(received), message]), {
        sender: input.mailFrom,
        recipients: [...remote.values()],
        nextAttemptAt: now,
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
      })
      : Promise.resolve(null),
  ]);
  return {
    ok: true,
    localAccounts: targets.length,
    remoteRecipients: remote.size,
    queueId: queued?.id ?? null,
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
