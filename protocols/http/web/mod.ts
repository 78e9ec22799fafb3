/**
 * The webmail on the web listeners: the page at `/`, the admin console's page at `/admin/`,
 * their hashed assets under `/assets/`, and sign-in/sign-out under `/webmail/` (sign_in.ts,
 * shared by both). Everything else the apps do goes through the JMAP API or the admin API
 * like any other client; the admin page itself holds no data, so it needs no sign-in.
 *
 * Invariants:
 * - Every response here carries the app's CSP (below) on top of the router's headers.
 * - The bundle is built (bundle.ts) on the first request and then kept in memory by this
 *   server's route closure (no module state): servers that never serve the webmail — most
 *   tests, IMAP-only setups — never run esbuild, and a failed build is retried next time.
 *
 * @module
 */
import { join } from "node:path";
import type { ServerDeps } from "../../../core/deps.ts";
import { log } from "../../../lib/log.ts";
import { type Router, text, type WebRequest } from "../router.ts";
import { loadWebBundle, type WebAsset, type WebBundle } from "./bundle.ts";
import { signIn, signOut } from "./sign_in.ts";

/**
 * The app's Content-Security-Policy. Scripts and connections: this origin only, no inline
 * script, no eval. A message body is an `srcdoc` iframe, and srcdoc documents inherit this
 * policy on top of their own (stricter) meta CSP, so two allowances exist for them: inline
 * styles (mail is styled inline) and remote images (shown only once the user asks; the
 * frame's own CSP blocks them until then).
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https: http:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** A year: hashed asset names change whenever their content does. */
const IMMUTABLE = "public, max-age=31536000, immutable";

function serve(r: WebRequest, a: WebAsset, cacheControl: string): Response {
  const headers = {
    "content-type": a.type,
    etag: a.etag,
    "cache-control": cacheControl,
    "content-security-policy": APP_CSP,
  };
  const match = r.req.headers.get("if-none-match");
  if (match !== null && match.split(",").some((t) => t.trim() === a.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(r.req.method === "HEAD" ? null : a.body, { headers });
}

/** Adds the webmail's routes to `router`. */
export function addWebmailRoutes(router: Router, deps: ServerDeps): void {
  let bundle: Promise<WebBundle> | null = null;
  const load = () =>
    bundle ??= loadWebBundle(join(deps.config.dataDir, "web")).catch((e) => {
      bundle = null;
      throw e;
    });
  const withBundle = (use: (b: WebBundle) => Response) => async (r: WebRequest) => {
    let b: WebBundle;
    try {
      b = await load();
    } catch (e) {
      log.error("http", `webmail build failed: ${(e as Error).message}`, { session: r.id });
      return text(503, "the webmail is not available: its build failed (see the server log)\n");
    }
    return use(b);
  };

  // The page itself is revalidated on every load (its ETag), so a new build is seen at once.
  router.route("/", ["GET"], (r) => withBundle((b) => serve(r, b.index, "no-cache"))(r));
  router.route("/admin/", ["GET"], (r) => withBundle((b) => serve(r, b.admin, "no-cache"))(r));
  // A one-time sign-up link (core/admin/signup.ts) opens the console's page, which shows
  // the "Choose a password" form for it.
  router.prefix("/signup/", ["GET"], (r) => withBundle((b) => serve(r, b.admin, "no-cache"))(r));
  router.route(
    "/admin",
    ["GET"],
    () => new Response(null, { status: 308, headers: { location: "/admin/" } }),
  );
  router.prefix("/assets/", ["GET"], (r) =>
    withBundle((b) => {
      const a = b.assets.get(r.url.pathname.slice("/assets/".length));
      return a ? serve(r, a, IMMUTABLE) : text(404, "not found\n");
    })(r));
  router.route("/webmail/signin", ["POST"], (r) => signIn(deps, r));
  router.route("/webmail/signout", ["POST"], (r) => signOut(deps, r));
}
