/**
 * AUTH (RFC 4954) with PLAIN, LOGIN and SCRAM-SHA-256 through core/auth's SASL exchanges,
 * run by core/session/sasl.ts; this file does only the SMTP framing (334 challenges) and
 * the replies.
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import { runSasl, type SaslFailure } from "../../../core/session/mod.ts";
import type { CommandHandler } from "../context.ts";
import { parseAuthArg } from "../parser.ts";
import { authPermitted } from "../policy.ts";
import { smtpHook } from "../hooks.ts";
import {
  ALREADY_AUTHENTICATED,
  AUTH_CANCELLED,
  AUTH_FAILED,
  AUTH_OK,
  AUTH_THROTTLED,
  BAD_BASE64,
  ENCRYPTION_REQUIRED,
  reply,
  SmtpError,
  SYNTAX,
  UNKNOWN_MECHANISM,
  withText,
} from "../replies.ts";

const MECHANISMS: ReadonlySet<string> = new Set(SASL_MECHANISMS);

/** RFC 4954 §4: AUTH mechanism [initial-response]. */
export const auth: CommandHandler = async (s, arg) => {
  // RFC 4954 §4: "After a successful AUTH command completes, a server MUST reject any
  // further AUTH commands with a 503 reply."
  if (s.account) throw new SmtpError(ALREADY_AUTHENTICATED);
  // RFC 4954 §4 / RFC 8314: no passwords in the clear (loopback may be allowed by config).
  if (!authPermitted(s)) throw new SmtpError(ENCRYPTION_REQUIRED);
  const ip = s.conn.remoteAddress;
  if (s.deps.auth.isThrottled(ip)) throw new SmtpError(AUTH_THROTTLED, { close: true });
  const { mechanism, initial } = parseAuthArg(arg);
  s.about({ mechanism });
  const exchange = MECHANISMS.has(mechanism) ? s.deps.auth.startSasl(mechanism, ip) : null;
  if (!exchange) throw new SmtpError(UNKNOWN_MECHANISM);
  const limits = s.deps.config.limits;
  const outcome = await runSasl(mechanism, exchange, initial, {
    // RFC 4954 §4: "334 " SP base64 challenge; the client answers with one base64 line.
    async challenge(base64) {
      s.reply(reply(334, "", base64));
      await s.flush();
    },
    readLine: (maxLen) => s.conn.readLineText(maxLen, limits.smtpCommandTimeoutMs),
    // The login name goes into the refusal log line of a failed attempt (never the password).
    onLogin: (login) => s.about({ login }),
  });
  if (!outcome.ok) throw failure(outcome.reason);
  s.account = outcome.account;
  // Plugins (auth hook) may still refuse this user; a refusal undoes the login.
  await smtpHook(s, "auth", { user: outcome.account.email, mechanism });
  s.reply(AUTH_OK);
};

/** The reply of a failed exchange (RFC 4954 §4, §6). */
function failure(reason: SaslFailure): SmtpError {
  switch (reason) {
    case "throttled":
      return new SmtpError(AUTH_THROTTLED, { close: true });
    case "malformed":
      return new SmtpError(withText(SYNTAX, "Malformed authentication data"));
    case "bad_base64":
      return new SmtpError(BAD_BASE64);
    // RFC 4954 §4: "*" cancels the exchange -> 501.
    case "cancelled":
      return new SmtpError(AUTH_CANCELLED);
    default:
      return new SmtpError(AUTH_FAILED, { bad: true });
  }
}
