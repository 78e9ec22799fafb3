/**
 * The webmail's Settings that JMAP has no method for: the user's own password and the
 * OpenPGP public key that builtin:encrypt encrypts their mail with at rest.
 *
 * - `POST /webmail/password` {current, new}: the current password is checked by the same
 *   Authenticator as every login (so failures count in the login throttle and are logged),
 *   the new one passes the admin's password rules and is stored by core/admin/users.ts's
 *   setPassword (audited as `user.passwd` by the user themself).
 * - `GET /webmail/key`: the stored key's fingerprint, user ids, dates (404 when none).
 * - `POST /webmail/key` {armored}: checked and stored exactly like `user key set`
 *   (plugins/builtin/encrypt/keys.ts, the plugin's kv namespace); `DELETE` removes it.
 * - `GET /webmail/spam-lists`: the user's own allow and block lists ({allow, block}).
 * - `PUT /webmail/spam-lists` {allow, block}: checked by builtin:spam's user_lists.ts and
 *   stored in that plugin's kv, where it reads them for every message (audited as
 *   `user.spam_lists`). The config's `user_lists` still apply besides; they are not shown.
 *
 * Every route needs the bearer token (auth.ts) and reads only JSON bodies: a cross-site
 * form can send neither (no CSRF). Only the signed-in account is ever touched.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { Account } from "../../../storage/mod.ts";
import { clientText, log } from "../../../lib/log.ts";
import { setPassword } from "../../../core/admin/users.ts";
import { checkPassword } from "../../../core/admin/validate.ts";
import { UsageError } from "../../../core/admin/errors.ts";
import { kvNamespace } from "../../../plugins/engine/services.ts";
import {
  checkPublicKey,
  describeKey,
  KeyError,
  kvKeyFor,
  readStoredKey,
} from "../../../plugins/builtin/encrypt/keys.ts";
import { audit } from "../../../core/admin/context.ts";
import { pluginNameFor, pluginStoreKv } from "../../../plugins/engine/store_kv.ts";
import {
  decodeStoredLists,
  ListError,
  listsKey,
  parseUserLists,
} from "../../../plugins/builtin/spam/user_lists.ts";
import { authenticate } from "../auth.ts";
import { readBody } from "../body.ts";
import type { Router, WebRequest } from "../router.ts";

/** A password pair, or an armored public key (1 MB, as `user key set` allows). */
const MAX_BODY = 1024 * 1024 + 4096;

function problem(status: number, error: string, headers: HeadersInit = {}): Response {
  return Response.json({ error }, { status, headers });
}

/** The JSON body as an object, or the response refusing it. */
async function jsonBody(r: WebRequest): Promise<Record<string, unknown> | Response> {
  const type = (r.req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    await r.req.body?.cancel().catch(() => {});
    return problem(415, "Expected a JSON body.");
  }
  const bytes = await readBody(r.req, MAX_BODY);
  if (!bytes) return problem(413, "Request too large.");
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* below */ }
  return problem(400, "Expected a JSON object.");
}

/** An admin context acting as the signed-in user themself (for the audit log). */
function asUser(deps: ServerDeps, r: WebRequest, account: Account) {
  return {
    store: deps.store,
    hostname: deps.config.hostname,
    dataDir: deps.config.dataDir,
    actor: { who: account.email, ip: r.ip },
  };
}

async function changePassword(deps: ServerDeps, r: WebRequest, account: Account) {
  const body = await jsonBody(r);
  if (body instanceof Response) return body;
  const { current, new: next } = body;
  if (typeof current !== "string" || typeof next !== "string" || !current) {
    return problem(400, "Enter the current and the new password.");
  }
  try {
    checkPassword(next);
  } catch (e) {
    return problem(400, `The new ${(e as Error).message}.`);
  }
  const check = await deps.auth.verify(account.email, current, r.ip);
  if (!check.ok) {
    log.info("http", "login failed", {
      session: r.id,
      ip: r.ip,
      login: clientText(account.email),
      how: "webmail-password",
      reason: check.reason,
    });
    if (check.reason === "throttled") {
      const wait = Math.max(1, Math.ceil(deps.auth.throttle.blockedFor(r.ip) / 1000));
      return problem(429, `Too many failed attempts. Try again in ${wait} s.`, {
        "retry-after": `${wait}`,
      });
    }
    return problem(403, "The current password is not right.");
  }
  await setPassword(asUser(deps, r, account), account.email, () => Promise.resolve(next));
  log.info("http", "password changed", { session: r.id, ip: r.ip, login: account.email });
  return new Response(null, { status: 204 });
}

/** The kv namespace of the configured builtin:encrypt (cli/commands/user.ts does the same). */
function keyNamespace(deps: ServerDeps): string {
  const p = deps.config.plugins.find((p) => p.module === "builtin:encrypt");
  return kvNamespace(p?.name ?? "encrypt");
}

async function keyInfo(armored: string) {
  const info = await describeKey(await readStoredKey(armored));
  return {
    fingerprint: info.fingerprint,
    algorithm: info.algorithm,
    userIds: info.userIds,
    created: info.created.toISOString(),
    expires: info.expires ? info.expires.toISOString() : null,
  };
}

async function key(deps: ServerDeps, r: WebRequest, account: Account): Promise<Response> {
  const ns = keyNamespace(deps);
  const id = kvKeyFor(account.email);
  if (r.req.method === "GET") {
    const stored = await deps.store.kvGet(ns, id);
    return stored ? Response.json(await keyInfo(stored)) : problem(404, "No key is set.");
  }
  if (r.req.method === "DELETE") {
    await r.req.body?.cancel().catch(() => {});
    await deps.store.kvDelete(ns, id);
    log.info("http", "encryption key removed", { session: r.id, login: account.email });
    return new Response(null, { status: 204 });
  }
  const body = await jsonBody(r);
  if (body instanceof Response) return body;
  if (typeof body.armored !== "string" || !body.armored.trim()) {
    return problem(400, "Paste or choose an OpenPGP public key.");
  }
  let checked;
  try {
    checked = await checkPublicKey(new TextEncoder().encode(body.armored), account.email);
  } catch (e) {
    if (e instanceof KeyError || e instanceof UsageError) {
      log.info("http", "encryption key refused", {
        session: r.id,
        login: account.email,
        reason: clientText(e.message),
      });
      return problem(400, e.message);
    }
    throw e;
  }
  await deps.store.kvSet(ns, id, checked.armored);
  log.info("http", "encryption key set", {
    session: r.id,
    login: account.email,
    fingerprint: checked.info.fingerprint,
  });
  return Response.json(await keyInfo(checked.armored));
}

async function spamLists(deps: ServerDeps, r: WebRequest, account: Account) {
  const kv = pluginStoreKv(deps.store, pluginNameFor(deps.config.plugins, "builtin:spam", "spam"));
  const id = listsKey(account.email);
  if (r.req.method === "GET" || r.req.method === "HEAD") {
    return Response.json(decodeStoredLists(await kv.get(id)) ?? { allow: [], block: [] });
  }
  const body = await jsonBody(r);
  if (body instanceof Response) return body;
  let lists;
  try {
    lists = parseUserLists(body);
  } catch (e) {
    if (!(e instanceof ListError)) throw e;
    log.info("http", "spam lists refused", {
      session: r.id,
      login: account.email,
      reason: clientText(e.message),
    });
    return problem(400, e.message);
  }
  if (lists.allow.length === 0 && lists.block.length === 0) await kv.delete(id);
  else await kv.set(id, JSON.stringify(lists));
  const detail = { allow: lists.allow.length, block: lists.block.length };
  await audit(asUser(deps, r, account), "user.spam_lists", account.email, detail);
  log.info("http", "spam lists set", { session: r.id, login: account.email, ...detail });
  return Response.json(lists);
}

/** Adds the settings routes (bearer token required). */
export function addSettingsRoutes(router: Router, deps: ServerDeps): void {
  const authed =
    (handle: (deps: ServerDeps, r: WebRequest, a: Account) => Promise<Response>) =>
    async (r: WebRequest) => {
      const auth = await authenticate(deps, r);
      if (!auth.ok) {
        await r.req.body?.cancel().catch(() => {});
        return auth.response;
      }
      return await handle(deps, r, auth.account);
    };
  router.route("/webmail/password", ["POST"], authed(changePassword));
  router.route("/webmail/key", ["GET", "POST", "DELETE"], authed(key));
  router.route("/webmail/spam-lists", ["GET", "PUT"], authed(spamLists));
}
