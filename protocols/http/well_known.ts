/**
 * Small /.well-known answers: ACME HTTP-01 key authorizations (RFC 8555 §8.3) and the
 * MTA-STS policy we publish (RFC 8461 §3.2).
 *
 * @module
 */
import type { ServerDeps } from "../../core/deps.ts";
import { type Router, text, type WebRequest } from "./router.ts";

const ACME_PREFIX = "/.well-known/acme-challenge/";

export function addWellKnownRoutes(router: Router, deps: ServerDeps): void {
  router.prefix(ACME_PREFIX, ["GET"], (r) => {
    const token = r.url.pathname.slice(ACME_PREFIX.length);
    const keyAuthorization = deps.acme?.challenges.httpKeyAuthorization(token);
    if (keyAuthorization === undefined) return text(404, "not found\n");
    return new Response(keyAuthorization, {
      headers: { "content-type": "application/octet-stream" },
    });
  });
  router.route("/.well-known/mta-sts.txt", ["GET"], (r) => mtaStsPolicy(r, deps));
}

/**
 * The host a request named (Host, or HTTP/2's :authority, both end up in the URL),
 * lower-case, without port or trailing dot; "" when it is not a DNS name.
 */
export function requestHost(r: WebRequest): string {
  const host = r.url.hostname.toLowerCase().replace(/\.$/, "");
  return /^[a-z0-9.-]{1,253}$/.test(host) ? host : "";
}

/**
 * RFC 8461 §3.3: the policy is fetched over HTTPS only, from `mta-sts.<domain>`; we answer
 * for local domains and 404 for any other host. The MX is this server's hostname.
 */
async function mtaStsPolicy(r: WebRequest, deps: ServerDeps): Promise<Response> {
  const host = requestHost(r);
  if (!r.secure || !host.startsWith("mta-sts.")) return text(404, "not found\n");
  if (!(await deps.store.hasDomain(host.slice("mta-sts.".length)))) {
    return text(404, "not found\n");
  }
  const { mode, maxAgeS } = deps.config.mtaSts;
  // §3.2: "key: value" lines, CRLF-separated.
  const policy = [
    "version: STSv1",
    `mode: ${mode}`,
    `mx: ${deps.config.hostname}`,
    `max_age: ${maxAgeS}`,
  ].join("\r\n") + "\r\n";
  return text(200, policy);
}
