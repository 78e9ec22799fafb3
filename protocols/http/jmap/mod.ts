/**
 * JMAP on the web listeners: the session resource, the API, uploads and downloads
 * (RFC 8620), with the mail methods of RFC 8621 implemented so far.
 *
 * Invariants:
 * - Every JMAP route authenticates first (../auth.ts); an unauthenticated request reaches
 *   no storage beyond the credential check.
 * - maxConcurrentRequests and maxConcurrentUpload are counted per user here, on this
 *   object (one per server: both listeners share it), never in module state.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { Account } from "../../../storage/mod.ts";
import { authenticate } from "../auth.ts";
import { type Router, text, type WebRequest } from "../router.ts";
import { handleApi } from "./api.ts";
import { download, upload } from "./blob.ts";
import type { JmapMethod } from "./context.ts";
import { CORE_METHODS } from "./core.ts";
import { EMAIL_METHODS } from "./email.ts";
import { EMAIL_QUERY_METHODS } from "./email_query.ts";
import { EMAIL_SET_METHODS } from "./email_set.ts";
import { EMAIL_IMPORT_METHODS } from "./email_import.ts";
import { EMAIL_COPY_METHODS } from "./email_copy.ts";
import { problem } from "./errors.ts";
import { jmapLimits } from "./limits.ts";
import { MAILBOX_METHODS } from "./mailbox.ts";
import { MAILBOX_QUERY_METHODS } from "./mailbox_query.ts";
import { MAILBOX_SET_METHODS } from "./mailbox_set.ts";
import { THREAD_METHODS } from "./thread.ts";
import { RecordLocks } from "./records.ts";
import { PushHub, pushParams } from "./push.ts";
import { PUSH_SUBSCRIPTION_METHODS } from "./push_subscription.ts";
import { IDENTITY_METHODS } from "./identity.ts";
import { SUBMISSION_METHODS } from "./submission.ts";
import { VACATION_METHODS } from "./vacation.ts";
import { SNIPPET_METHODS } from "./snippet.ts";
import { baseUrl, PATHS, sessionObject } from "./session.ts";

/** Every method by name (one family per file). */
function methodTable(): ReadonlyMap<string, JmapMethod> {
  return new Map(Object.entries({
    ...CORE_METHODS,
    ...MAILBOX_METHODS,
    ...MAILBOX_QUERY_METHODS,
    ...MAILBOX_SET_METHODS,
    ...THREAD_METHODS,
    ...EMAIL_METHODS,
    ...EMAIL_QUERY_METHODS,
    ...IDENTITY_METHODS,
    ...SUBMISSION_METHODS,
    ...VACATION_METHODS,
    ...PUSH_SUBSCRIPTION_METHODS,
    ...EMAIL_SET_METHODS,
    ...EMAIL_IMPORT_METHODS,
    ...EMAIL_COPY_METHODS,
    ...SNIPPET_METHODS,
  }));
}

/** Counts what each user has in flight, refusing past a limit. */
class InFlight {
  #counts = new Map<number, number>();
  constructor(readonly max: number) {}

  /** A release function, or null when the user is at the limit. */
  claim(user: number): (() => void) | null {
    const n = this.#counts.get(user) ?? 0;
    if (n >= this.max) return null;
    this.#counts.set(user, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#counts.get(user) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(user);
      else this.#counts.set(user, left);
    };
  }
}

/** Adds the JMAP routes to `router`. */
export function addJmapRoutes(router: Router, deps: ServerDeps): void {
  const limits = jmapLimits(deps.config);
  const methods = methodTable();
  const requests = new InFlight(limits.maxConcurrentRequests);
  const uploads = new InFlight(limits.maxConcurrentUpload);
  const locks = new RecordLocks();
  const push = new PushHub(deps);
  router.onStop(() => push.stop());

  const authed = (
    handle: (
      r: WebRequest,
      account: Account,
    ) => Promise<Response>,
  ) =>
  async (r: WebRequest) => {
    const auth = await authenticate(deps, r);
    return auth.ok ? await handle(r, auth.account) : auth.response;
  };

  // RFC 8620 §2.2: the session resource at the well-known URI (RFC 8615).
  router.route(
    "/.well-known/jmap",
    ["GET"],
    authed((r, account) => {
      const base = baseUrl(r.url, r.secure, deps.config.hostname);
      return Promise.resolve(Response.json(sessionObject(account, limits, base)));
    }),
  );

  router.route(
    PATHS.api,
    ["POST"],
    authed(async (r, account) => {
      const release = requests.claim(account.id);
      if (!release) {
        await r.req.body?.cancel().catch(() => {});
        return problem(400, "limit", "too many concurrent requests", {
          limit: "maxConcurrentRequests",
        });
      }
      try {
        return await handleApi(r.req, {
          deps,
          account,
          limits,
          methods,
          requestId: r.id,
          locks,
          push,
          client: { ip: r.ip, secure: r.secure },
        });
      } finally {
        release();
      }
    }),
  );

  router.prefix(
    PATHS.upload,
    ["POST"],
    authed(async (r, account) => {
      const accountId = r.url.pathname.slice(PATHS.upload.length).replace(/\/$/, "");
      const release = uploads.claim(account.id);
      if (!release) {
        await r.req.body?.cancel().catch(() => {});
        return problem(400, "limit", "too many concurrent uploads", {
          limit: "maxConcurrentUpload",
        });
      }
      try {
        return await upload(r.req, { deps, account, limits, accountId });
      } finally {
        release();
      }
    }),
  );

  router.prefix(
    PATHS.download,
    ["GET"],
    authed((r, account) =>
      download(r.url, { deps, account, rest: r.url.pathname.slice(PATHS.download.length) })
    ),
  );

  // Push (RFC 8620 §7.3): EventSource streams, ended when a listener stops.
  router.prefix(
    PATHS.eventSource,
    ["GET"],
    authed((r, account) => {
      const p = pushParams(r.url);
      return Promise.resolve(typeof p === "string" ? text(400, `${p}\n`) : push.open(account, p));
    }),
  );
}
