/**
 * The webmail's sign-in and sign-out: the page POSTs the address and password once and gets
 * a JMAP bearer token (core/auth/api_token.ts) that it keeps in sessionStorage and sends in
 * the Authorization header; sign-out revokes that token.
 *
 * Why a bearer token and not a cookie: the browser never attaches it on its own, so no
 * cross-site request can carry it (CSRF-proof without a CSRF token), and the JMAP API
 * already accepts it. The page's CSP allows no inline or foreign script, which is what
 * keeps it out of reach of a message's content (messages render in a sandboxed iframe).
 *
 * Invariants:
 * - The password is checked by core/auth.ts's Authenticator (the IMAP/POP3/SMTP throttle,
 *   argon2id off the main thread) and never stored; only the token's SHA-256 is.
 * - Credentials only over https, or from loopback when `auth.allow_plaintext_loopback`
 *   is set (the rule of auth.ts).
 * - Only `application/json` bodies are read: a cross-site form cannot send one without a
 *   CORS preflight, which is never granted.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import { isLoopbackAddress } from "../../../core/connection.ts";
import { hashApiToken, newApiToken } from "../../../core/auth/api_token.ts";
import { clientText, log } from "../../../lib/log.ts";
import { authenticate } from "../auth.ts";
import { readBody } from "../body.ts";
import type { WebRequest } from "../router.ts";

/** Largest sign-in body read (an address and a password, as JSON). */
const MAX_SIGN_IN_BODY = 4096;

function problem(status: number, error: string, headers: HeadersInit = {}): Response {
  return Response.json({ error }, { status, headers });
}

/** POST /webmail/signin {email, password} -> {token, username}. */
export async function signIn(deps: ServerDeps, r: WebRequest): Promise<Response> {
  const plaintextOk = r.secure ||
    (deps.config.auth.allowPlaintextLoopback && isLoopbackAddress(r.ip));
  if (!plaintextOk) {
    await r.req.body?.cancel().catch(() => {});
    return problem(403, "Sign in over https: passwords are not accepted over plain http.");
  }
  const type = (r.req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    await r.req.body?.cancel().catch(() => {});
    return problem(415, "Expected a JSON body.");
  }
  const body = await readBody(r.req, MAX_SIGN_IN_BODY);
  if (!body) return problem(413, "Request too large.");
  let email: unknown, password: unknown;
  try {
    ({ email, password } = JSON.parse(new TextDecoder().decode(body)));
  } catch {
    return problem(400, "Expected a JSON body.");
  }
  if (typeof email !== "string" || typeof password !== "string" || !email || !password) {
    return problem(400, "Enter your email address and password.");
  }
  const result = await deps.auth.verify(email, password, r.ip);
  if (!result.ok) {
    log.info("http", "login failed", {
      session: r.id,
      ip: r.ip,
      login: clientText(email),
      how: "webmail",
      reason: result.reason,
    });
    if (result.reason === "throttled") {
      const wait = Math.max(1, Math.ceil(deps.auth.throttle.blockedFor(r.ip) / 1000));
      return problem(429, `Too many failed attempts. Try again in ${wait} s.`, {
        "retry-after": `${wait}`,
      });
    }
    return problem(401, "Wrong email address or password.");
  }
  const token = newApiToken();
  await deps.store.createApiToken(result.account.id, "webmail", hashApiToken(token));
  log.info("http", "webmail sign-in", { session: r.id, ip: r.ip, login: result.account.email });
  return Response.json({ token, username: result.account.email });
}

/** POST /webmail/signout with the bearer token: revokes it. */
export async function signOut(deps: ServerDeps, r: WebRequest): Promise<Response> {
  await r.req.body?.cancel().catch(() => {});
  const auth = await authenticate(deps, r);
  if (!auth.ok) return auth.response;
  const header = r.req.headers.get("authorization") ?? "";
  if (!/^bearer /i.test(header)) return problem(400, "Sign out needs the bearer token.");
  const found = await deps.store.findApiToken(hashApiToken(header.slice(7).trim()));
  if (found && found.accountId === auth.account.id) await deps.store.revokeApiToken(found.id);
  return new Response(null, { status: 204 });
}
