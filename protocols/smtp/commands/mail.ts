/**
 * MAIL FROM (RFC 5321 §4.1.1.2), with SIZE, BODY, SMTPUTF8, DSN, AUTH and REQUIRETLS
 * parameters, and the submission rule that a user sends only as an address they own.
 *
 * @module
 */
import { ownsAddress } from "../../../core/identity.ts";
import type { CommandHandler } from "../context.ts";
import { mailParams } from "../params.ts";
import { parseMailArg } from "../parser.ts";
import { NEEDS_SMTPUTF8, SENDER_NOT_OWNED, SENDER_OK, SmtpError } from "../replies.ts";
import { smtpHook } from "../hooks.ts";

/** RFC 5321 §4.1.1.2: MAIL FROM:<reverse-path> [SP mail-parameters]. */
export const mail: CommandHandler = async (s, arg) => {
  const { mailbox, params } = parseMailArg(arg);
  s.about({ address: mailbox?.address ?? "<>" });
  const p = mailParams(params, {
    tls: s.conn.isTls,
    maxMessageBytes: s.deps.config.limits.maxMessageBytes,
  });
  // RFC 6531 §3.5: a non-ASCII reverse-path needs the SMTPUTF8 parameter.
  if (mailbox && !mailbox.ascii && !p.smtputf8) throw new SmtpError(NEEDS_SMTPUTF8);
  // RFC 6409 §6.1: the submission server may check that the sender is the user's
  // (core/identity.ts). The null reverse-path impersonates no one and stays allowed
  // (automatic replies use it).
  if (s.account && mailbox && !(await ownsAddress(s.deps, s.account, mailbox.address))) {
    throw new SmtpError(SENDER_NOT_OWNED);
  }
  s.envelope = { sender: mailbox, params: p, recipients: [], chunks: [], chunkBytes: 0 };
  s.phase = "mail";
  // Plugins (mail hook): a refusal ends the transaction it would have started.
  await smtpHook(s, "mail", { params: { ...p } });
  s.reply(SENDER_OK);
};
