/**
 * RCPT TO (RFC 5321 §4.1.1.3): route each recipient through the router; never relay for
 * unauthenticated clients.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { rcptParams } from "../params.ts";
import { parseRcptArg } from "../parser.ts";
import { mayRelay } from "../policy.ts";
import { NEEDS_SMTPUTF8, RECIPIENT_OK, reply, SmtpError, TOO_MANY_RECIPIENTS } from "../replies.ts";
import { smtpHook, toAddress } from "../hooks.ts";

/** RFC 5321 §4.1.1.3: RCPT TO:<forward-path> [SP rcpt-parameters]. */
export const rcpt: CommandHandler = async (s, arg) => {
  const env = s.envelope!;
  const { mailbox, params } = parseRcptArg(arg);
  s.about({ address: mailbox.address, from: env.sender?.address ?? "<>" });
  const dsn = rcptParams(params);
  // RFC 6531 §3.5: non-ASCII forward-path only in an SMTPUTF8 transaction.
  if (!mailbox.ascii && !env.params.smtputf8) throw new SmtpError(NEEDS_SMTPUTF8);
  // RFC 5321 §4.5.3.1.10: beyond our recipient limit -> 452 4.5.3 (the client retries later).
  if (env.recipients.length >= s.deps.config.limits.maxRecipients) {
    throw new SmtpError(TOO_MANY_RECIPIENTS);
  }
  // The router decides local / alias / catch-all / remote. Source routes, "%" hacks, bang
  // paths and quoted "@" were already reduced to one final address by the parser; whatever
  // is not one of our domains is remote, and remote needs an authenticated sender.
  const r = await s.deps.router.resolve(mailbox.address, { mayRelay: mayRelay(s) });
  if (r.kind === "reject") throw new SmtpError(reply(r.code, r.enhanced, r.text));
  // Plugins (rcpt hook): a refusal refuses this recipient only.
  await smtpHook(s, "rcpt", { rcpt: toAddress(mailbox) });
  env.recipients.push({ address: mailbox.address, local: r.local, remote: r.remote, dsn });
  s.phase = "rcpt";
  s.reply(RECIPIENT_OK);
};
