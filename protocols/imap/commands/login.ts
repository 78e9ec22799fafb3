/**
 * LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959).
 *
 * @module
 */
import type { AuthResult } from "../../../core/auth.ts";
import { runSasl } from "../../../core/session/mod.ts";
import { clientText, log } from "../../../lib/log.ts";
import { Code } from "../codes.ts";
import { command, type Completion, type SessionContext } from "../context.ts";
import { bad, ImapError, no, ParseError } from "../errors.ts";

function loggedIn(ctx: SessionContext, how: string): Completion {
  log.debug("imap", "login", {
    session: ctx.id,
    user: ctx.account?.email,
    ip: ctx.conn.remoteAddress,
    how,
  });
  // RFC 9051 §6.2.2: the tagged OK may carry the (new) capability list.
  return { code: `${Code.CAPABILITY} ${ctx.capabilities().join(" ")}`, text: "Logged in" };
}

/** CONTRACT, Logging: every failed authentication at info, with session, client and login. */
function authFailure(
  ctx: SessionContext,
  reason: "invalid" | "throttled" | "malformed" | "cancelled" | "privacy",
  login: string,
  how: string,
): ImapError {
  log.info("imap", "login failed", {
    session: ctx.id,
    ip: ctx.conn.remoteAddress,
    login: clientText(login),
    how,
    reason,
  });
  switch (reason) {
    case "throttled":
      return no("Too many failed attempts, try again later", Code.UNAVAILABLE);
    case "malformed":
      return bad("Malformed SASL response");
    case "cancelled":
      return bad("Authentication cancelled");
    case "privacy":
      return no("Use STARTTLS before sending a password", Code.PRIVACYREQUIRED);
    default:
      return no("Authentication failed", Code.AUTHENTICATIONFAILED);
  }
}

function requirePrivacy(ctx: SessionContext, login: string, how: string): void {
  // RFC 9051 §6.2.3 / §11.1: no passwords over an unencrypted connection (loopback may be
  // allowed by configuration).
  if (!ctx.plaintextAuthAllowed()) throw authFailure(ctx, "privacy", login, how);
}

/** RFC 9051 §6.2.3: LOGIN userid password. */
export const LOGIN = command({
  parse(r) {
    r.space();
    const user = r.astring("a user name");
    r.space();
    const password = r.astring("a password");
    return { user, password };
  },
  async run(ctx, { user, password }) {
    requirePrivacy(ctx, user, "LOGIN");
    const result: AuthResult = await ctx.deps.auth.verify(
      user,
      password,
      ctx.conn.remoteAddress,
    );
    if (!result.ok) throw authFailure(ctx, result.reason, user, "LOGIN");
    ctx.login(result.account);
    return loggedIn(ctx, "LOGIN");
  },
});

/** RFC 9051 §6.2.2: AUTHENTICATE mechanism [SP initial-response] (RFC 4959). */
export const AUTHENTICATE = command({
  parse(r) {
    r.space();
    const mechanism = r.atom("a SASL mechanism").toUpperCase();
    let initial: string | null = null;
    if (r.tryChar(" ")) {
      // RFC 4959 §3: "=" is an empty initial response.
      initial = r.takeWhile((c) => c !== 0x20);
      if (initial === "") throw new ParseError("Expected an initial response");
    }
    return { mechanism, initial };
  },
  async run(ctx, { mechanism, initial }) {
    requirePrivacy(ctx, "", mechanism);
    const exchange = ctx.deps.auth.startSasl(mechanism, ctx.conn.remoteAddress);
    if (!exchange) throw no(`Unsupported mechanism ${mechanism}`, Code.CANNOT);
    const outcome = await runSasl(mechanism, exchange, initial, {
      // RFC 9051 §7.5: continuation request carrying the base64 challenge.
      async challenge(base64) {
        ctx.send(`+ ${base64}\r\n`);
        await ctx.flush();
      },
      readLine: (maxLen) => ctx.readLine(maxLen),
    });
    if (outcome.ok) {
      ctx.login(outcome.account);
      return loggedIn(ctx, mechanism);
    }
    if (outcome.reason === "bad_base64") throw bad("Invalid base64 in SASL response");
    if (outcome.reason === "too_many_rounds") throw bad("Too many SASL rounds");
    // RFC 9051 §6.2.2: "*" cancels the exchange (reason "cancelled").
    throw authFailure(ctx, outcome.reason, outcome.login, mechanism);
  },
});
