/**
 * STARTTLS (RFC 3207).
 *
 * @module
 */
import { ConnectionClosedError } from "../../../core/connection.ts";
import { log } from "../../../lib/log.ts";
import type { CommandHandler } from "../context.ts";
import { startTlsOffered } from "../policy.ts";
import { ALREADY_TLS, READY_TLS, SmtpError, SYNTAX, TLS_NOT_AVAILABLE } from "../replies.ts";

/**
 * RFC 3207 §4: 220, then the handshake. §4.2: afterwards the client is unknown again (back to
 * before EHLO, not authenticated), and any plaintext pipelined after STARTTLS is discarded
 * (Connection.startTls drops it).
 */
export const starttls: CommandHandler = async (s, arg) => {
  if (arg !== "") throw new SmtpError(SYNTAX);
  if (s.conn.isTls) throw new SmtpError(ALREADY_TLS);
  if (!startTlsOffered(s)) throw new SmtpError(TLS_NOT_AVAILABLE);
  s.reply(READY_TLS);
  await s.flush();
  try {
    await s.conn.startTls(s.deps.tls.context(), s.deps.config.limits.smtpCommandTimeoutMs);
  } catch (e) {
    // A failed handshake ends the session: nothing sensible can be said in the clear now.
    log.debug("smtp", "STARTTLS handshake failed", { session: s.id, error: (e as Error).message });
    throw new ConnectionClosedError();
  }
  s.resetAll();
};
