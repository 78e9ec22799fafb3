/**
 * Per-listener policy: what each role offers and requires. Pure functions of the session.
 *
 * - `mx` (port 25): anyone may deliver to local recipients; no AUTH offered; STARTTLS offered.
 * - `submission` (587): STARTTLS offered; AUTH required before MAIL (RFC 6409 §4.3).
 * - `submissions` (465): implicit TLS (RFC 8314 §3.3); AUTH required before MAIL.
 *
 * AUTH is offered only over TLS, or from loopback when auth.allow_plaintext_loopback.
 *
 * @module
 */
import { plaintextAuthAllowed } from "../../core/session/mod.ts";
import type { SmtpRole, SmtpSession } from "./context.ts";

/** Listeners where MAIL needs an authenticated session. */
export function requiresAuth(role: SmtpRole): boolean {
  return role !== "mx";
}

/** May AUTH be used (and be advertised) on this connection right now? */
export function authPermitted(s: SmtpSession): boolean {
  if (s.role === "mx") return false;
  return plaintextAuthAllowed(s.conn, s.deps.config);
}

/** Is STARTTLS on offer? (Not once encrypted, RFC 3207 §4.2; never on implicit TLS.) */
export function startTlsOffered(s: SmtpSession): boolean {
  return !s.conn.isTls && s.role !== "submissions";
}

/** Only authenticated senders may send to non-local recipients (never an open relay). */
export function mayRelay(s: SmtpSession): boolean {
  return s.account !== null;
}
