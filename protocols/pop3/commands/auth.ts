/**
 * AUTH (RFC 5034): SASL PLAIN, LOGIN and SCRAM-SHA-256, with an optional initial response.
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import type { CommandHandler } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import { continuation, decodeBase64, multiline } from "../replies.ts";
import { watchLogin } from "../../../core/sasl_login.ts";
import {
  authFailed,
  loginFailed,
  refuseIfThrottled,
  requireLoginAllowed,
  throttledError,
} from "./login_policy.ts";

/** A SASL exchange that has not finished after this many round trips is abandoned. */
const MAX_ROUNDS = 8;

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
  const started = ctx.deps.auth.startSasl(mechanism, ctx.conn.remoteAddress);
  if (!started) throw new Pop3Error(`Unsupported mechanism ${mechanism}`, { bad: true });
  // Remembers the login name for the log line of a failure (never the password).
  const exchange = watchLogin(mechanism, started);
  const failed = (e: Pop3Error) => loginFailed(ctx, e, exchange.login, mechanism);

  // RFC 5034 §4: an initial response of "=" stands for an empty one.
  let input: Uint8Array | null = null;
  if (cmd.args.length === 2) input = decodeResponse(cmd.args[1]);

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const step = await exchange.step(input);
    if (step.type === "success") {
      await ctx.login(step.account);
      return;
    }
    if (step.type === "failure") {
      if (step.reason === "throttled") throw failed(throttledError());
      if (step.reason === "malformed") throw failed(authFailed("Malformed SASL response"));
      throw failed(authFailed());
    }
    // RFC 5034 §4: a challenge is "+ " and base64; the client answers with one line.
    ctx.send(continuation(step.data));
    const line = await ctx.readSaslLine();
    // RFC 5034 §4: "*" cancels the exchange.
    if (line === "*") throw failed(new Pop3Error("AUTH cancelled", { bad: true }));
    input = decodeResponse(line);
  }
  throw failed(authFailed("Too many SASL round trips"));
};

/** A client response: base64, or "=" for empty (RFC 5034 §4). */
function decodeResponse(text: string): Uint8Array {
  if (text === "=") return new Uint8Array();
  const data = decodeBase64(text);
  if (data === null) throw syntaxError("Invalid base64 in SASL response");
  return data;
}
