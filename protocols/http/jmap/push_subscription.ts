/**
 * PushSubscription (RFC 8620 §7.2): get and set, with verification.
 *
 * A new subscription gets a random verificationCode, POSTed at once to its url as a
 * PushVerification object (§7.2.2); it receives StateChange POSTs (push.ts) only after the
 * client has set that code on it. Subscriptions belong to the user (not an account) and are
 * kept in the stored records (records.ts, type "pushsub").
 *
 * URL policy: https URLs, or http to a loopback address (development and tests). Encrypted
 * pushes (RFC 8291 `keys`) are not supported and refused with invalidProperties. Every POST
 * has a short timeout and follows no redirect.
 *
 * @module
 */
import { isLoopbackAddress } from "../../../core/connection.ts";
import { log } from "../../../lib/log.ts";
import { checkArgs, idList, type JmapMethod, pick, propertyList } from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import { noteChange, readDoc, writeDoc } from "./records.ts";
import { CORE } from "./session.ts";

export const PUSHSUB_TYPE = "pushsub";
const PROPERTIES = ["id", "deviceClientId", "url", "keys", "verificationCode", "expires", "types"];
/** At most this many subscriptions per user. */
const MAX_SUBSCRIPTIONS = 50;
/** Subscriptions expire after this long at most (§7.2: the server may cap `expires`). */
const MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const POST_TIMEOUT_MS = 5000;

/** May the server POST to `url`? */
export function pushUrlAllowed(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password || url.length > 2000) return false;
  if (u.protocol === "https:") return true;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return u.protocol === "http:" && (isLoopbackAddress(host) || host === "localhost");
}

/** POSTs one JSON object to a subscription's url; failures are logged, never thrown. */
export async function postPush(url: string, body: unknown): Promise<boolean> {
  if (!pushUrlAllowed(url)) return false;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", ttl: "86400" },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok;
  } catch (e) {
    log.info("jmap", "push POST failed", { url: url.slice(0, 200), error: (e as Error).message });
    return false;
  }
}

const get: JmapMethod = {
  capability: CORE,
  async run(ctx, args) {
    checkArgs(args, ["ids", "properties"]);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ??
      PROPERTIES.filter((p) => p !== "url" && p !== "keys");
    // §7.2.1: url and keys are never returned.
    if (properties.includes("url") || properties.includes("keys")) {
      throw new MethodError("forbidden", "url and keys are not readable");
    }
    const unknown = properties.find((p) => !PROPERTIES.includes(p));
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const doc = await readDoc(ctx.deps.store, PUSHSUB_TYPE, ctx.account.id);
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of ids ?? Object.keys(doc.objects)) {
      const o = Object.hasOwn(doc.objects, id) ? doc.objects[id] : undefined;
      if (o) list.push(pick({ ...o, id }, properties));
      else notFound.push(id);
    }
    return { list, notFound };
  },
};

const utcDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The capped expiry of a requested one. */
function expiry(v: unknown, now: number): string | null {
  if (v === undefined || v === null) return utcDate(now + MAX_LIFETIME_MS);
  if (typeof v !== "string") return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return utcDate(Math.min(Math.max(t, now), now + MAX_LIFETIME_MS));
}

function typesOf(v: unknown): string[] | null | undefined {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length > 50 || !v.every((t) => typeof t === "string")) {
    return undefined;
  }
  return v as string[];
}

const set: JmapMethod = {
  capability: CORE,
  run(ctx, args) {
    checkArgs(args, ["create", "update", "destroy"]);
    return ctx.locks.with(PUSHSUB_TYPE, ctx.account.id, async () => {
      const store = ctx.deps.store;
      const doc = await readDoc(store, PUSHSUB_TYPE, ctx.account.id);
      const now = ctx.deps.now();
      const create = isObject(args.create) ? args.create : {};
      const update = isObject(args.update) ? args.update : {};
      const destroy = idList(args, "destroy", ctx.limits.maxObjectsInSet) ?? [];
      const out = {
        created: {} as JsonObject,
        notCreated: {} as JsonObject,
        updated: {} as JsonObject,
        notUpdated: {} as JsonObject,
        destroyed: [] as string[],
        notDestroyed: {} as JsonObject,
      };
      const verify: Array<[string, string, string]> = [];
      for (const [cid, o] of Object.entries(create)) {
        if (!isObject(o)) {
          out.notCreated[cid] = { type: "invalidArguments" };
          continue;
        }
        const bad = Object.keys(o).filter((k) =>
          !["deviceClientId", "url", "expires", "types"].includes(k)
        );
        if (typeof o.deviceClientId !== "string" || o.deviceClientId.length > 255) {
          bad.push("deviceClientId");
        }
        if (typeof o.url !== "string" || !pushUrlAllowed(o.url)) bad.push("url");
        const expires = expiry(o.expires, now);
        if (expires === null) bad.push("expires");
        const types = typesOf(o.types);
        if (types === undefined) bad.push("types");
        if (bad.length > 0) {
          out.notCreated[cid] = { type: "invalidProperties", properties: bad };
          continue;
        }
        if (Object.keys(doc.objects).length >= MAX_SUBSCRIPTIONS) {
          out.notCreated[cid] = { type: "overQuota" };
          continue;
        }
        const id = `p${doc.next++}`;
        const code = crypto.randomUUID();
        doc.objects[id] = {
          deviceClientId: o.deviceClientId,
          url: o.url,
          keys: null,
          verificationCode: null,
          expires,
          types: types ?? null,
          pendingCode: code,
        };
        noteChange(doc, id, "c");
        ctx.createdIds.set(cid, id);
        out.created[cid] = { id, keys: null, expires };
        verify.push([id, o.url as string, code]);
      }
      for (const [id, patch] of Object.entries(update)) {
        const cur = Object.hasOwn(doc.objects, id) ? doc.objects[id] : undefined;
        if (!cur) {
          out.notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (!isObject(patch)) {
          out.notUpdated[id] = { type: "invalidPatch" };
          continue;
        }
        const bad: string[] = [];
        const next = { ...cur };
        for (const [k, v] of Object.entries(patch)) {
          if (k === "verificationCode") {
            if (v !== cur.pendingCode) bad.push(k);
            else next.verificationCode = v;
          } else if (k === "expires") {
            const e = expiry(v, now);
            if (e === null) bad.push(k);
            else next.expires = e;
          } else if (k === "types") {
            const t = typesOf(v);
            if (t === undefined) bad.push(k);
            else next.types = t;
          } else bad.push(k);
        }
        if (bad.length > 0) {
          out.notUpdated[id] = { type: "invalidProperties", properties: bad };
          continue;
        }
        doc.objects[id] = next;
        noteChange(doc, id, "u");
        out.updated[id] = null;
      }
      for (const id of destroy) {
        if (!Object.hasOwn(doc.objects, id)) out.notDestroyed[id] = { type: "notFound" };
        else {
          delete doc.objects[id];
          noteChange(doc, id, "d");
          out.destroyed.push(id);
        }
      }
      await writeDoc(store, PUSHSUB_TYPE, ctx.account.id, doc);
      ctx.push.forget(ctx.account.id);
      // §7.2.2: the verification goes out after the subscription exists.
      for (const [id, url, code] of verify) {
        postPush(url, {
          "@type": "PushVerification",
          pushSubscriptionId: id,
          verificationCode: code,
        }).catch(() => {});
      }
      return out;
    });
  },
};

export const PUSH_SUBSCRIPTION_METHODS: Record<string, JmapMethod> = {
  "PushSubscription/get": get,
  "PushSubscription/set": set,
};
