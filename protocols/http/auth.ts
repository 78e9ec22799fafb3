/**
 * Who is asking, on the web side: HTTP Basic (the full address and the password, RFC 7617)
 * or a bearer token (RFC 6750; created with `token create`). Both go through
 * core/auth.ts's Authenticator, so web logins share the throttle with IMAP, POP3 and SMTP.
 *
 * The rule of AUTH elsewhere holds here: credentials only over TLS, or from loopback when
 * `auth.allow_plaintext_loopback` is set. Every failure is logged at info with the request
 * id, the client address and the login name (CONTRACT, Logging).
 *
 * @module
 */
import type { Account } from "../../storage/mod.ts";
import type { ServerDeps } from "../../core/deps.ts";
import { isLoopbackAddress } from "../../core/connection.ts";
import { clientText, log } from "../../lib/log.ts";
import { text, type WebRequest } from "./router.ts";

/** Longest Authorization header looked at (a base64 address and password, or a token). */
const MAX_AUTHORIZATION = 4096;

const CHALLENGES = ['Basic realm="denomail", charset="UTF-8"', 'Bearer realm="denomail"'];

export type WebAuth = { ok: true; account: Account } | { ok: false; response: Response };

type Failure = "invalid" | "throttled" | "malformed" | "privacy" | "missing";

function refuse(deps: ServerDeps, r: WebRequest, reason: Failure, login: string, how: string) {
  if (reason !== "missing") {
    log.info("http", "login failed", {
      session: r.id,
      ip: r.ip,
      login: clientText(login),
      how,
      reason,
    });
  }
  const headers = new Headers();
  // RFC 6750 §3.1: a refused token gets the Bearer challenge alone. Offering Basic there would
  // make a browser (the webmail's fetch) open its own password prompt and stall the request.
  const challenges = how === "bearer"
    ? ['Bearer realm="denomail", error="invalid_token"']
    : CHALLENGES;
  for (const c of challenges) headers.append("www-authenticate", c);
  switch (reason) {
    case "privacy":
      return text(403, "use https: credentials are not accepted over plain http\n");
    case "throttled": {
      const wait = Math.max(1, Math.ceil(deps.auth.throttle.blockedFor(r.ip) / 1000));
      return text(429, "too many failed attempts, try again later\n", { "retry-after": `${wait}` });
    }
    default:
      return new Response("authentication required\n", { status: 401, headers });
  }
}

/** Authenticates the request, or says why not as the response to send. */
export async function authenticate(deps: ServerDeps, r: WebRequest): Promise<WebAuth> {
  const header = r.req.headers.get("authorization");
  if (header === null) return { ok: false, response: refuse(deps, r, "missing", "", "none") };
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? "" : header.slice(space + 1).trim();
  const how = scheme === "basic" || scheme === "bearer" ? scheme : "other";
  // The same rule as AUTH and LOGIN (RFC 9051 §11.1): no credentials in clear, except
  // from loopback when the admin allows it.
  const plaintextOk = r.secure ||
    (deps.config.auth.allowPlaintextLoopback && isLoopbackAddress(r.ip));
  if (!plaintextOk) return { ok: false, response: refuse(deps, r, "privacy", "", how) };
  if (header.length > MAX_AUTHORIZATION || how === "other" || value === "") {
    return { ok: false, response: refuse(deps, r, "malformed", "", how) };
  }
  if (how === "bearer") {
    const result = await deps.auth.verifyToken(value, r.ip);
    if (result.ok) return result;
    return { ok: false, response: refuse(deps, r, result.reason, "(bearer token)", how) };
  }
  // RFC 7617 §2: base64(user-id ":" password), UTF-8 with charset="UTF-8".
  let decoded: string;
  try {
    const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, response: refuse(deps, r, "malformed", "", how) };
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return { ok: false, response: refuse(deps, r, "malformed", decoded, how) };
  const login = decoded.slice(0, colon);
  const result = await deps.auth.verify(login, decoded.slice(colon + 1), r.ip);
  if (result.ok) return result;
  return { ok: false, response: refuse(deps, r, result.reason, login, how) };
}
