/**
 * Rules USER/PASS and AUTH share: where a login may be attempted, throttling, and how a
 * failure is worded.
 *
 * @module
 */
import type { SessionContext } from "../context.ts";
import { clientText, log } from "../../../lib/log.ts";
import { Pop3Error } from "../errors.ts";
import { RESP } from "../replies.ts";

/**
 * RFC 2595 §2.1 / RFC 8314: no credentials before TLS, except from loopback when
 * `auth.allow_plaintext_loopback` is set. RFC 3206 §5: [AUTH] names a policy refusal.
 */
export function requireLoginAllowed(ctx: SessionContext): void {
  if (!ctx.loginAllowed) {
    throw new Pop3Error("Plaintext authentication disallowed: use STLS first", {
      code: RESP.auth,
      bad: true,
    });
  }
}

/** The reply to a client whose address is locked out after too many failed logins. */
export function throttledError(): Pop3Error {
  // RFC 3206 §4: SYS/TEMP — trying again later (after the lock expires) may work.
  return new Pop3Error("Too many failed logins, try again later", {
    code: RESP.sysTemp,
    close: true,
  });
}

/** Refuses at once when the client's address is locked out. */
export function refuseIfThrottled(ctx: SessionContext): void {
  if (ctx.deps.auth.isThrottled(ctx.conn.remoteAddress)) throw throttledError();
}

/** RFC 3206 §5: [AUTH] — the credentials were wrong. */
export function authFailed(text = "Authentication failed"): Pop3Error {
  return new Pop3Error(text, { code: RESP.auth, bad: true });
}

/**
 * CONTRACT, Logging: a failed authentication (wrong credentials, throttled, malformed,
 * cancelled) is logged at info with the session id, the client address and the login name.
 * Returns `error` so call sites read `throw loginFailed(ctx, ...)`.
 */
export function loginFailed(
  ctx: SessionContext,
  error: Pop3Error,
  login: string | null,
  how: string,
): Pop3Error {
  log.info("pop3", "login failed", {
    session: ctx.id,
    ip: ctx.conn.remoteAddress,
    login: clientText(login ?? ""),
    how,
    reason: error.message,
  });
  return error;
}
