/**
 * The public side of one-time sign-up links (core/admin/signup.ts): the page at
 * `/signup/TOKEN` (the admin console's bundle) asks `GET /api/signup/TOKEN` for the address
 * and sends the chosen password with `POST /api/signup/TOKEN` `{"password"}`.
 *
 * Invariants:
 * - No credentials: the 256-bit token is the credential; an unknown, used or expired one
 *   gets 404 (logged), whichever it is.
 * - The password travels only over https, or from loopback while
 *   `auth.allow_plaintext_loopback` is set (the sign-in's rule); JSON content type only
 *   (no cross-site form can post it), bounded body.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import { isLoopbackAddress } from "../../../core/connection.ts";
import { completeSignup, signupAddress } from "../../../core/admin/signup.ts";
import { clientText, log } from "../../../lib/log.ts";
import type { Router, WebRequest } from "../router.ts";
import { errorResponse, jsonError, readJsonBody, stringField } from "./request.ts";

export const SIGNUP_API = "/api/signup/";

async function handle(deps: ServerDeps, r: WebRequest): Promise<Response> {
  const token = r.url.pathname.slice(SIGNUP_API.length);
  const ctx = {
    store: deps.store,
    hostname: deps.config.hostname,
    dataDir: deps.config.dataDir,
    actor: { who: "", ip: r.ip },
  };
  try {
    if (r.req.method === "GET") return Response.json(await signupAddress(ctx, token));
    const plaintextOk = r.secure ||
      (deps.config.auth.allowPlaintextLoopback && isLoopbackAddress(r.ip));
    if (!plaintextOk) {
      await r.req.body?.cancel().catch(() => {});
      return jsonError(403, "forbidden", "Use https: passwords are not accepted over plain http.");
    }
    const body = await readJsonBody(r.req);
    if (!body.ok) return body.response;
    const done = await completeSignup(ctx, token, stringField(body.body, "password") ?? "");
    log.info("http", `sign-up link used: account ${done.email} created`, { ip: r.ip });
    return Response.json(done, { status: 201 });
  } catch (e) {
    const res = errorResponse(e);
    if (!res) throw e;
    log.info("http", `sign-up refused: ${clientText((e as Error).message)}`, { ip: r.ip });
    return res;
  }
}

export function addSignupRoutes(router: Router, deps: ServerDeps): void {
  router.prefix(SIGNUP_API, ["GET", "POST"], (r) => handle(deps, r));
}
