/**
 * Identity methods (RFC 8621 §6): the addresses a user may send as.
 *
 * The server offers (mayDelete false): the account's own address, every full address
 * `[submission] allowed_identities` grants the user, and every alias source that delivers
 * to them — ownership is core/identity.ts's rule, the same as port 587's. A user may create
 * more identities for any address that rule accepts (a "+tag" form, an address of a domain
 * granted with "@domain"); those may be destroyed. name, replyTo, bcc, textSignature and
 * htmlSignature of every identity are stored (records.ts, type "identity").
 *
 * Ids: `i` + a digest of the address for offered identities (stable while the address is
 * offered), `n<number>` for created ones.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ownsAddress } from "../../../core/identity.ts";
import type { Account } from "../../../storage/mod.ts";
import type { MethodContext } from "./context.ts";
import {
  checkArgs,
  idList,
  intArg,
  type JmapMethod,
  pick,
  propertyList,
  requireAccount,
  stringArg,
} from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import { changesSince, noteChange, readDoc, type RecordDoc, writeDoc } from "./records.ts";
import { SUBMISSION } from "./session.ts";

const TYPE = "identity";

const PROPERTIES = [
  "id",
  "name",
  "email",
  "replyTo",
  "bcc",
  "textSignature",
  "htmlSignature",
  "mayDelete",
];
const SETTABLE = ["name", "replyTo", "bcc", "textSignature", "htmlSignature"];

const offeredId = (email: string) =>
  "i" + createHash("sha256").update(email).digest("base64url").slice(0, 16);

/** The addresses the server offers as identities of `account`, own address first. */
async function offeredAddresses(ctx: MethodContext, account: Account): Promise<string[]> {
  const out = new Set<string>([account.email]);
  for (const g of ctx.deps.config.submission.allowedIdentities.get(account.email) ?? []) {
    if (!g.startsWith("@")) out.add(g.toLowerCase());
  }
  for (const a of await ctx.deps.store.listAliases()) {
    const src = a.source.toLowerCase();
    if (src.startsWith("@") || out.has(src)) continue;
    const r = await ctx.deps.router.resolve(src, { mayRelay: false });
    if (r.kind === "deliver" && r.local.some((l) => l.accountId === account.id)) out.add(src);
  }
  return [...out];
}

/** Every identity of the account: offered ones merged with what was stored. */
export async function loadIdentities(
  ctx: MethodContext,
): Promise<{ doc: RecordDoc; identities: Map<string, JsonObject>; state: string }> {
  const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
  const identities = new Map<string, JsonObject>();
  const offered = await offeredAddresses(ctx, ctx.account);
  for (const email of offered) {
    const id = offeredId(email);
    identities.set(id, {
      id,
      name: "",
      email,
      replyTo: null,
      bcc: null,
      textSignature: "",
      htmlSignature: "",
      ...(doc.objects[id] ?? {}),
      mayDelete: false,
    });
  }
  for (const [id, o] of Object.entries(doc.objects)) {
    if (id.startsWith("n")) identities.set(id, { ...o, id, mayDelete: true } as JsonObject);
  }
  return { doc, identities, state: stateOf(doc, offered) };
}

/**
 * The Identity state: the record's change counter and a digest of the offered addresses,
 * which change without an Identity/set (config, aliases) — then /changes cannot say what
 * changed and answers cannotCalculateChanges.
 */
function stateOf(doc: RecordDoc, offered: readonly string[]): string {
  const digest = createHash("sha256").update(offered.join("\n")).digest("hex").slice(0, 12);
  return `${doc.state}-${digest}`;
}

const get: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ids", "properties"]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? PROPERTIES;
    const unknown = properties.find((p) => !PROPERTIES.includes(p));
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const { identities, state } = await loadIdentities(ctx);
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of ids ?? [...identities.keys()]) {
      const o = identities.get(id);
      if (o) list.push(pick(o, properties));
      else notFound.push(id);
    }
    return { accountId, state, list, notFound };
  },
};

const changes: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "sinceState", "maxChanges"]);
    const accountId = requireAccount(ctx, args);
    const since = stringArg(args, "sinceState");
    if (since === null) throw invalidArguments("sinceState is required");
    const max = intArg(args, "maxChanges", 0, 1);
    const { doc, state } = await loadIdentities(ctx);
    const [counter, digest] = since.split("-");
    const c = digest === state.split("-")[1] ? changesSince(doc, counter, max) : null;
    if (!c) throw new MethodError("cannotCalculateChanges");
    return { accountId, oldState: since, ...c, newState: `${c.newState}-${digest}` };
  },
};

/** EmailAddress[] | null (RFC 8621 §4.1.2.3), or undefined when `v` is not one. */
function addressList(v: unknown): unknown[] | null | undefined {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length > 100) return undefined;
  const ok = v.every((a) =>
    isObject(a) && typeof a.email === "string" && a.email.length <= 255 &&
    (a.name === undefined || a.name === null || typeof a.name === "string")
  );
  return ok ? v : undefined;
}

/** The settable properties of `patch`, checked; the names of bad ones in `bad`. */
function settable(patch: JsonObject, bad: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "name" || k === "textSignature" || k === "htmlSignature") {
      if (typeof v === "string" && v.length <= 10_000) out[k] = v;
      else bad.push(k);
    } else if (k === "replyTo" || k === "bcc") {
      const l = addressList(v);
      if (l === undefined) bad.push(k);
      else out[k] = l;
    } else if (!SETTABLE.includes(k)) bad.push(k);
  }
  return out;
}

const set: JmapMethod = {
  capability: SUBMISSION,
  run(ctx, args) {
    checkArgs(args, ["accountId", "ifInState", "create", "update", "destroy"]);
    const accountId = requireAccount(ctx, args);
    return ctx.locks.with(TYPE, ctx.account.id, async () => {
      const { doc, identities, state: oldState } = await loadIdentities(ctx);
      const digest = oldState.split("-")[1];
      const ifInState = stringArg(args, "ifInState");
      if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
      const create = isObject(args.create) ? args.create : {};
      const update = isObject(args.update) ? args.update : {};
      const destroy = idList(args, "destroy", ctx.limits.maxObjectsInSet) ?? [];
      const n = Object.keys(create).length + Object.keys(update).length + destroy.length;
      if (n > ctx.limits.maxObjectsInSet) throw new MethodError("requestTooLarge");
      const out = {
        created: {} as JsonObject,
        notCreated: {} as JsonObject,
        updated: {} as JsonObject,
        notUpdated: {} as JsonObject,
        destroyed: [] as string[],
        notDestroyed: {} as JsonObject,
      };
      for (const [cid, obj] of Object.entries(create)) {
        if (!isObject(obj)) {
          out.notCreated[cid] = { type: "invalidArguments" };
          continue;
        }
        const { email, ...rest } = obj;
        const bad: string[] = [];
        const props = settable(rest, bad);
        if (typeof email !== "string" || email.length > 255 || !email.includes("@")) {
          bad.push("email");
        }
        if (bad.length > 0) {
          out.notCreated[cid] = { type: "invalidProperties", properties: bad };
          continue;
        }
        const address = (email as string).toLowerCase();
        if (!(await ownsAddress(ctx.deps, ctx.account, address))) {
          out.notCreated[cid] = {
            type: "forbiddenFrom",
            description: "you may not send as this address",
          };
          continue;
        }
        const id = `n${doc.next++}`;
        const o = {
          name: "",
          replyTo: null,
          bcc: null,
          textSignature: "",
          htmlSignature: "",
          ...props,
          email: address,
        };
        doc.objects[id] = o;
        noteChange(doc, id, "c");
        ctx.createdIds.set(cid, id);
        out.created[cid] = { id, mayDelete: true };
      }
      for (const [id, patch] of Object.entries(update)) {
        const cur = identities.get(id);
        if (!cur) {
          out.notUpdated[id] = { type: "notFound" };
          continue;
        }
        if (!isObject(patch)) {
          out.notUpdated[id] = { type: "invalidArguments" };
          continue;
        }
        const bad: string[] = [];
        const { email, id: _id, mayDelete: _m, ...rest } = patch;
        if (email !== undefined && email !== cur.email) bad.push("email");
        const props = settable(rest, bad);
        if (bad.length > 0) {
          out.notUpdated[id] = { type: "invalidProperties", properties: bad };
          continue;
        }
        doc.objects[id] = { ...(doc.objects[id] ?? {}), ...props };
        if (id.startsWith("n")) doc.objects[id].email = cur.email;
        noteChange(doc, id, "u");
        out.updated[id] = null;
      }
      for (const id of destroy) {
        const cur = identities.get(id);
        if (!cur) out.notDestroyed[id] = { type: "notFound" };
        else if (!id.startsWith("n")) {
          out.notDestroyed[id] = {
            type: "forbidden",
            description: "the server offers this identity",
          };
        } else {
          delete doc.objects[id];
          noteChange(doc, id, "d");
          out.destroyed.push(id);
        }
      }
      const newState = `${doc.state}-${digest}`;
      if (newState !== oldState) {
        await writeDoc(ctx.deps.store, TYPE, ctx.account.id, doc);
        ctx.push.recordChanged(ctx.account.id, "Identity", newState);
      }
      return { accountId, oldState, newState, ...out };
    });
  },
};

export const IDENTITY_METHODS: Record<string, JmapMethod> = {
  "Identity/get": get,
  "Identity/changes": changes,
  "Identity/set": set,
};
