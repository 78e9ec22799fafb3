/**
 * AUTH (RFC 4954) with PLAIN, LOGIN and SCRAM-SHA-256 through core/auth's SASL exchanges;
 * this file does only the SMTP framing: 334 challenges in base64, "*" to cancel.
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import { watchLogin } from "../../../core/sasl_login.ts";
import type { CommandHandler } from "../context.ts";
import { decodeBase64, encodeBase64, MAX_AUTH_LINE, parseAuthArg } from "../parser.ts";
import { authPermitted } from "../policy.ts";
import { smtpHook } from "../hooks.ts";
import {
  ALREADY_AUTHENTICATED,
  AUTH_CANCELLED,
  AUTH_FAILED,
  AUTH_OK,
  AUTH_THROTTLED,
  ENCRYPTION_REQUIRED,
  reply,
  SmtpError,
  SYNTAX,
  UNKNOWN_MECHANISM,
  withText,
} from "../replies.ts";

/** A SASL exchange that goes on longer than this is refused (SCRAM needs 3 rounds). */
const MAX_ROUNDS = 5;

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
  const started = MECHANISMS.has(mechanism) ? s.deps.auth.startSasl(mechanism, ip) : null;
  if (!started) throw new SmtpError(UNKNOWN_MECHANISM);
  // The login name goes into the refusal log line of a failed attempt (never the password).
  const exchange = watchLogin(mechanism, started);
  // RFC 4954 §4: "=" is an empty initial response; none at all means the server speaks first.
  let input: Uint8Array | null = initial === null ? null : decodeBase64(initial, true);
  const limits = s.deps.config.limits;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const step = await exchange.step(input);
    if (exchange.login) s.about({ login: exchange.login });
    if (step.type === "success") {
      s.account = step.account;
      // Plugins (auth hook) may still refuse this user; a refusal undoes the login.
      await smtpHook(s, "auth", { user: step.account.email, mechanism });
      s.reply(AUTH_OK);
      return;
    }
    if (step.type === "failure") {
      if (step.reason === "throttled") throw new SmtpError(AUTH_THROTTLED, { close: true });
      if (step.reason === "malformed") {
        throw new SmtpError(withText(SYNTAX, "Malformed authentication data"));
      }
      throw new SmtpError(AUTH_FAILED, { bad: true });
    }
    // RFC 4954 §4: "334 " SP base64 challenge; the client answers with one base64 line.
    s.reply(reply(334, "", encodeBase64(step.data)));
    await s.flush();
    const line = await s.conn.readLineText(MAX_AUTH_LINE, limits.smtpCommandTimeoutMs);
    const answer = line.trim();
    // RFC 4954 §4: "*" cancels the exchange -> 501.
    if (answer === "*") throw new SmtpError(AUTH_CANCELLED);
    input = decodeBase64(answer);
  }
  throw new SmtpError(AUTH_FAILED, { bad: true });
};
