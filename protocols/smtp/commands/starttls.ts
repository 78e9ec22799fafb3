/**
 * STARTTLS (RFC 3207).
 *
 * @module
 */
import { startTlsHandshake } from "../../../core/session/mod.ts";
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
  await startTlsHandshake(s.deps, s.conn, "smtp");
  s.resetAll();
};
