/**
 * The admin API (`/api/admin/...`, JSON) on the web listeners: the CLI's twin, one route per
 * admin command (routes.ts), each calling the same core/admin operation.
 *
 * Invariants:
 * - Every request authenticates (Basic or Bearer, ../auth.ts, throttled like every login)
 *   and then the admin role is checked on that very request: 401 without credentials,
 *   403 for an account without the role — before any route is looked up, so neither
 *   learns which routes exist.
 * - State-changing requests need `Content-Type: application/json` and a bounded JSON
 *   object body (request.ts); credentials come only from the Authorization header.
 * - Every change is written to the audit log by the shared operation, with the admin's
 *   address and the client address.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import { authenticate } from "../auth.ts";
import { encryptNamespace } from "../../../core/admin/keys.ts";
import type { ServerGauges } from "../ops.ts";
import type { Router, WebRequest } from "../router.ts";
import { errorResponse, jsonError, readJsonBody } from "./request.ts";
import { ADMIN_ROUTES, matchPath } from "./routes.ts";

export const ADMIN_PREFIX = "/api/admin/";

/** Longest path looked at, and most segments (the longest route has three). */
const MAX_PATH = 2048;
const MAX_SEGMENTS = 8;

/** Decoded path segments after the prefix, or null when not decodable. */
function segmentsOf(pathname: string): string[] | null {
  if (pathname.length > MAX_PATH) return null;
  const raw = pathname.slice(ADMIN_PREFIX.length).replace(/\/$/, "").split("/");
  if (raw.length > MAX_SEGMENTS) return null;
  try {
    return raw.map(decodeURIComponent);
  } catch {
    return null;
  }
}

/** Adds the admin API to `router`. */
export function addAdminRoutes(router: Router, deps: ServerDeps, gauges: ServerGauges): void {
  const started = Date.now();
  const handle = async (r: WebRequest): Promise<Response> => {
    const auth = await authenticate(deps, r);
    if (!auth.ok) {
      await r.req.body?.cancel().catch(() => {});
      return auth.response;
    }
    // The role is read on every call: taking it away takes effect at the next request.
    if (!(await deps.store.isAdmin(auth.account.id))) {
      await r.req.body?.cancel().catch(() => {});
      return jsonError(403, "forbidden", "this account does not have the admin role");
    }
    const segments = segmentsOf(r.url.pathname);
    const method = r.req.method === "HEAD" ? "GET" : r.req.method;
    const candidates = segments === null
      ? []
      : ADMIN_ROUTES.map((route) => ({ route, params: matchPath(route.path, segments) }))
        .filter((m) => m.params !== null);
    const found = candidates.find((m) => m.route.method === method);
    if (!found) {
      await r.req.body?.cancel().catch(() => {});
      if (candidates.length === 0) return jsonError(404, "notFound", "no such admin route");
      const allow = [...new Set(candidates.map((m) => m.route.method))].join(", ");
      const res = jsonError(405, "methodNotAllowed", `use ${allow}`);
      res.headers.set("allow", allow);
      return res;
    }
    const body = await readJsonBody(r.req);
    if (!body.ok) return body.response;
    try {
      return await found.route.handle({
        ctx: {
          store: deps.store,
          hostname: deps.config.hostname,
          dataDir: deps.config.dataDir,
          actor: { who: auth.account.email, ip: r.ip },
          certPem: () => Promise.resolve(deps.tls.certPem),
          dns: deps.config.dns,
          mtaSts: deps.config.mtaSts,
          keyNamespace: encryptNamespace(deps.config.plugins),
        },
        params: found.params!,
        body: body.body,
        url: r.url,
        deps,
        gauges,
        started,
      });
    } catch (e) {
      const res = errorResponse(e);
      if (res) return res;
      throw e;
    }
  };
  router.prefix(ADMIN_PREFIX, ["GET", "POST", "PUT", "DELETE"], handle);
}
