/**
 * The SMTP side of the plugin hooks: builds each hook's context from an SMTP session and
 * turns the plugins' outcome into what the session does (an SmtpError, which the session
 * loop turns into the wire reply, or the changes to apply to a message).
 *
 * The SMTP commands call these with one line each; with no plugins configured (or none
 * declaring the hook) they return at once without building anything.
 *
 * Plugin results are remembered per session (connect, ehlo, auth) and per transaction
 * (mail, rcpt, data) in the server's `deps.hookState` (core/hook_state.ts), so later
 * plugins can read earlier results and the message's log line lists every verdict,
 * without new fields on the session.
 *
 * @module
 */
import type { Envelope, SmtpSession } from "./context.ts";
import type { Mailbox } from "./parser.ts";
import { type Reply, reply, SmtpError } from "./replies.ts";
import type { Address, HookName, PluginResultSummary, SessionInfo } from "../../plugins/sdk.ts";
import { type EarlyCalls, formatResults, type HookOutcome } from "../../plugins/engine/host.ts";
import { addressOf } from "../../plugins/engine/address.ts";
import { observeAccepted, rejectedByDmarc } from "../../core/reports/observe.ts";

function info(s: SmtpSession): SessionInfo {
  return {
    id: s.id,
    remoteIp: s.conn.remoteAddress,
    role: s.role,
    tls: s.conn.isTls,
    ...(s.helo ? { helo: s.helo } : {}),
    ...(s.account ? { user: s.account.email } : {}),
  };
}

/** A parsed mailbox (or the null sender) as plugins see it. */
export function toAddress(m: Mailbox | null | { address: string }): Address {
  return addressOf(m?.address ?? "");
}

function earlier(s: SmtpSession): PluginResultSummary[] {
  const { sessionResults, envelopeResults } = s.deps.hookState;
  return [
    ...(sessionResults.get(s) ?? []),
    ...(s.envelope ? envelopeResults.get(s.envelope) ?? [] : []),
  ];
}

function remember(s: SmtpSession, hook: HookName, results: PluginResultSummary[]): void {
  if (results.length === 0) return;
  const { sessionResults, envelopeResults } = s.deps.hookState;
  const perMessage = hook === "mail" || hook === "rcpt" || hook === "data";
  if (perMessage && s.envelope) {
    envelopeResults.set(s.envelope, [...(envelopeResults.get(s.envelope) ?? []), ...results]);
  } else if (!perMessage) {
    sessionResults.set(s, [...(sessionResults.get(s) ?? []), ...results]);
  }
}

/** Refusing verdicts become the SMTP reply; accept/continue/discard/quarantine return. */
function enforce(s: SmtpSession, out: HookOutcome): HookOutcome {
  // The refusal's log line names the plugin that decided (the console's Activity reads it).
  const refusing = out.action === "reject" || out.action === "tempfail" ||
    out.action === "disconnect";
  if (refusing && out.decidedBy) s.about({ plugin: out.decidedBy });
  switch (out.action) {
    case "reject":
    case "tempfail":
      throw new SmtpError(reply(out.code!, out.enhanced!, out.text!), { bad: false });
    case "disconnect":
      // RFC 5321 §3.8: the server may close after a 421 reply.
      throw new SmtpError(reply(out.code!, out.enhanced!, out.text!), { close: true });
    default:
      return out;
  }
}

/**
 * Runs a session-level or envelope-level hook. Throws SmtpError for reject, tempfail
 * (plugin failure under on_error = "tempfail": 451 4.3.0) and disconnect.
 */
export async function smtpHook(
  s: SmtpSession,
  hook: "connect" | "ehlo" | "auth" | "mail" | "rcpt",
  fields: Record<string, unknown> = {},
): Promise<HookOutcome | null> {
  const host = s.deps.plugins;
  if (!host?.wants(hook)) return null;
  const env = s.envelope;
  if (env) {
    fields = {
      sender: toAddress(env.sender),
      recipients: env.recipients.map((r) => toAddress(r)),
      ...fields,
    };
  }
  const out = await host.run(hook, { session: info(s), results: earlier(s), ...fields });
  remember(s, hook, out.results);
  try {
    return enforce(s, out);
  } catch (e) {
    // A refused command leaves no trace of what it would have set up.
    if (hook === "ehlo") {
      s.resetTransaction();
      s.phase = "init";
      s.helo = null;
    } else if (hook === "auth") s.account = null;
    else if (hook === "mail") s.resetTransaction();
    throw e;
  }
}

/**
 * Runs the connect hook; returns the reply to send instead of the greeting (and then
 * close), or null to greet as usual.
 */
export async function smtpConnectHook(s: SmtpSession): Promise<Reply | null> {
  try {
    await smtpHook(s, "connect");
    return null;
  } catch (e) {
    if (e instanceof SmtpError) return e.reply;
    throw e;
  }
}

/** What the data hook decided for a message that may be stored. */
export interface DataDecision {
  /** The message to store (with added headers / replaced body). */
  data: Uint8Array;
  /** The mailbox for local copies; undefined = INBOX. */
  mailbox?: string;
  /** Accept but store nothing. */
  discard: boolean;
  /** Every plugin's result for this message, for its log line. */
  log: string;
  /** The same results as data, and the total score (the deliver hook reads both). */
  results: PluginResultSummary[];
  score: number;
}

/** Results of the session's and `env`'s earlier hooks: what the data hook's plugins see. */
function beforeData(s: SmtpSession, env: Envelope): PluginResultSummary[] {
  const { sessionResults, envelopeResults } = s.deps.hookState;
  return [...(sessionResults.get(s) ?? []), ...(envelopeResults.get(env) ?? [])];
}

/**
 * At DATA's 354: sends the data calls of envelope-only plugins that declared `early`
 * (plugins/sdk.ts `Early`) while the message arrives, for `smtpDataHook` to use. Only when
 * the client declared the message's size (RFC 1870 §6 SIZE=): such a plugin is told the
 * size, and is asked again in its turn should the message turn out another size.
 */
export function smtpEarlyData(s: SmtpSession): EarlyCalls | null {
  const host = s.deps.plugins;
  const env = s.envelope;
  const size = env?.params.size;
  if (!host || !env || size === null || size === undefined || !host.wants("data")) return null;
  return host.early({
    session: info(s),
    results: beforeData(s, env),
    sender: toAddress(env.sender),
    recipients: env.recipients.map((r) => toAddress(r)),
  }, size);
}

/**
 * Runs the data hook for a finished message of `env` (with the calls `smtpEarlyData` sent,
 * if any). Throws SmtpError for refusing verdicts; otherwise says what to store where.
 */
export async function smtpDataHook(
  s: SmtpSession,
  env: Envelope,
  data: Uint8Array,
  early: EarlyCalls | null = null,
): Promise<DataDecision> {
  const host = s.deps.plugins;
  const before = beforeData(s, env);
  if (!host?.wants("data")) {
    return { data, discard: false, log: formatResults(before), results: before, score: 0 };
  }
  const out = await host.run("data", {
    session: info(s),
    results: before,
    sender: toAddress(env.sender),
    recipients: env.recipients.map((r) => toAddress(r)),
    message: data,
  }, early);
  if (rejectedByDmarc(out.results)) {
    // A DMARC reject still counts for the aggregate report (disposition reject).
    void observeAccepted(s.deps, {
      session: info(s),
      sender: env.sender?.address ?? "",
      message: data,
      results: out.results,
      localRecipients: [],
      now: Date.now(),
    }, true);
  }
  enforce(s, out);
  return {
    data: out.message ?? data,
    mailbox: out.mailbox,
    discard: out.action === "discard",
    log: formatResults([...before, ...out.results]),
    results: [...before, ...out.results],
    score: out.score,
  };
}
