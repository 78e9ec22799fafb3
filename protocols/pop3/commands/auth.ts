/**
 * AUTH (RFC 5034): SASL PLAIN, LOGIN and SCRAM-SHA-256, with an optional initial response,
 * run by core/session/sasl.ts; this file does the POP3 framing ("+ " challenges) and replies.
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import { runSasl, type SaslFailure } from "../../../core/session/mod.ts";
import type { CommandHandler } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import { continuation, multiline } from "../replies.ts";
import {
  authFailed,
  loginFailed,
  refuseIfThrottled,
  requireLoginAllowed,
  throttledError,
} from "./login_policy.ts";

// RFC 5034 §4: AUTH mechanism [initial-response].
export const auth: CommandHandler = async (ctx, cmd) => {
  // RFC 1734 practice kept by many servers and probed by clients (fetchmail): a bare AUTH
  // lists the mechanisms as a multi-line response.
  if (cmd.args.length === 0) {
    ctx.send(multiline("Methods supported", ctx.loginAllowed ? [...SASL_MECHANISMS] : []));
    return;
  }
  requireLoginAllowed(ctx);
  if (cmd.args.length > 2) throw syntaxError("AUTH takes a mechanism and an initial response");
  const mechanism = cmd.args[0].toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new Pop3Error(`Unsupported mechanism ${mechanism}`, { bad: true });
  }
  refuseIfThrottled(ctx);
  const exchange = ctx.deps.auth.startSasl(mechanism, ctx.conn.remoteAddress);
  if (!exchange) throw new Pop3Error(`Unsupported mechanism ${mechanism}`, { bad: true });
  // RFC 5034 §4: an initial response of "=" stands for an empty one.
  const outcome = await runSasl(mechanism, exchange, cmd.args[1] ?? null, {
    // RFC 5034 §4: a challenge is "+ " and base64; the client answers with one line.
    async challenge(base64) {
      ctx.send(continuation(base64));
      await ctx.flush();
    },
    readLine: (maxLen) => ctx.readSaslLine(maxLen),
  });
  if (outcome.ok) return await ctx.login(outcome.account);
  if (outcome.reason === "bad_base64") throw syntaxError("Invalid base64 in SASL response");
  // Logged with the login name the client gave (never the password).
  throw loginFailed(ctx, failure(outcome.reason), outcome.login, mechanism);
};

/** The -ERR of a failed exchange (RFC 5034 §4, RFC 3206). */
function failure(reason: SaslFailure): Pop3Error {
  switch (reason) {
    case "throttled":
      return throttledError();
    case "malformed":
      return authFailed("Malformed SASL response");
    // RFC 5034 §4: "*" cancels the exchange.
    case "cancelled":
      return new Pop3Error("AUTH cancelled", { bad: true });
    case "too_many_rounds":
      return authFailed("Too many SASL round trips");
    default:
      return authFailed();
  }
}
