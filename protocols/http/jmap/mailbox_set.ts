/**
 * Mailbox/set (RFC 8621 §2.5): create (name under parentId, an optional role that no other
 * mailbox has), update (rename and move by name/parentId — an IMAP RENAME, inferiors
 * follow; isSubscribed), destroy (mailboxHasChild, mailboxHasEmail unless
 * onDestroyRemoveEmails; an Email also in other mailboxes just leaves this one).
 *
 * Names: the JMAP name is the last "/"-separated level of the IMAP name, so a name may not
 * contain "/" itself. INBOX (role inbox) can be neither renamed nor destroyed (RFC 9051
 * §6.3.5). A role is a SPECIAL-USE attribute that at most one mailbox has; INBOX's role
 * is fixed. A name a sibling has is alreadyExists. `sortOrder` is kept in sort_order.ts.
 *
 * @module
 */
import { type Mailbox, type SpecialUse, StoreError } from "../../../storage/mod.ts";
import { normalizeMailboxName } from "../../../storage/names.ts";
import { loadMailboxes } from "./account_view.ts";
import {
  boolArg,
  checkArgs,
  idList,
  type JmapMethod,
  type MethodContext,
  objectArg,
  requireAccount,
  stringArg,
} from "./context.ts";
import { oneObject } from "./email_import.ts";
import { MethodError, type SetError, SetFailure } from "./errors.ts";
import { mailboxIdOf, parseMailboxId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { ROLES, toJmap } from "./mailbox.ts";
import { MAIL } from "./session.ts";
import { isUnsignedInt, readSortOrders, writeSortOrder } from "./sort_order.ts";
import { stateOf } from "./state.ts";

const SPECIAL_USE_OF = Object.fromEntries(
  Object.entries(ROLES).map(([su, role]) => [role, su as SpecialUse]),
) as Record<string, SpecialUse>;

const bad = (prop: string, why: string) =>
  new SetFailure("invalidProperties", why.slice(0, 200), [prop]);

interface View {
  byId: Map<number, Mailbox>;
  ctx: MethodContext;
}

function resolve(view: View, id: unknown): Mailbox | null {
  if (typeof id !== "string") return null;
  const real = id.startsWith("#") ? view.ctx.createdIds.get(id.slice(1)) : id;
  const n = parseMailboxId(real);
  return n === null ? null : view.byId.get(n) ?? null;
}

/** The JMAP name of a mailbox (last level; INBOX is shown as "Inbox" by mailbox.ts). */
const leafOf = (m: Mailbox) => m.name.slice(m.name.lastIndexOf("/") + 1);
const parentNameOf = (m: Mailbox) =>
  m.name.includes("/") ? m.name.slice(0, m.name.lastIndexOf("/")) : null;

function fullName(view: View, name: unknown, parentId: unknown): string {
  if (typeof name !== "string" || name === "" || name.includes("/") || name.length > 255) {
    throw bad("name", "a name is 1-255 characters without /");
  }
  let parent: Mailbox | null = null;
  if (parentId !== null && parentId !== undefined) {
    parent = resolve(view, parentId);
    if (!parent) throw bad("parentId", "no such parent mailbox");
  }
  try {
    return normalizeMailboxName(parent ? `${parent.name}/${name}` : name);
  } catch {
    throw bad("name", "invalid name");
  }
}

/**
 * A store error as the SetError of one object. A name a sibling has already is
 * alreadyExists with the sibling's id (the SetError of RFC 8620 §5.4 for a duplicate).
 */
async function storeFailure(view: View, name: string, e: unknown): Promise<never> {
  if (e instanceof StoreError) {
    if (e.code === "exists") {
      const sibling = await view.ctx.deps.store.getMailbox(view.ctx.account.id, name);
      const existingId = sibling ? mailboxIdOf(sibling.id) : undefined;
      throw new SetFailure("alreadyExists", "a sibling has that name", ["name"], existingId);
    }
    if (e.code === "invalid") throw bad("name", e.message);
    if (e.code === "not_found") throw new SetFailure("notFound");
  }
  throw e;
}

/** RFC 8621 §2: a role (one per account) as a SPECIAL-USE attribute; null/absent: none. */
function roleToSpecialUse(view: View, role: unknown): SpecialUse | null {
  if (role === undefined || role === null) return null;
  const specialUse = typeof role === "string" ? SPECIAL_USE_OF[role] ?? null : null;
  if (!specialUse) throw bad("role", "unknown role (inbox exists already)");
  if ([...view.byId.values()].some((m) => m.specialUse === specialUse)) {
    throw bad("role", "another mailbox has that role");
  }
  return specialUse;
}

/** A given sortOrder (RFC 8621 §2.1: UnsignedInt), or null when absent. */
function sortOrderOf(v: unknown): number | null {
  if (v === undefined) return null;
  if (!isUnsignedInt(v)) throw bad("sortOrder", "sortOrder is an unsigned integer");
  return v;
}

const CREATE_PROPS = ["name", "parentId", "role", "sortOrder", "isSubscribed"];

async function create(view: View, obj: unknown): Promise<Mailbox> {
  if (!isObject(obj)) throw new SetFailure("invalidProperties", "not an object");
  const unknown = Object.keys(obj).find((k) => !CREATE_PROPS.includes(k));
  if (unknown) throw bad(unknown, `cannot set ${unknown}`);
  const name = fullName(view, obj.name, obj.parentId);
  const sortOrder = sortOrderOf(obj.sortOrder);
  const specialUse = roleToSpecialUse(view, obj.role);
  const store = view.ctx.deps.store;
  const mb = await store.createMailbox(view.ctx.account.id, name, specialUse).catch((e) =>
    storeFailure(view, name, e)
  );
  if (obj.isSubscribed !== false) await store.setSubscribed(view.ctx.account.id, name, true);
  if (sortOrder !== null) await writeSortOrder(view.ctx, mb.id, sortOrder);
  view.byId.set(mb.id, mb);
  return mb;
}

async function update(view: View, mb: Mailbox, patch: unknown): Promise<void> {
  if (!isObject(patch)) throw new SetFailure("invalidPatch");
  const store = view.ctx.deps.store;
  for (const k of Object.keys(patch)) {
    if (!CREATE_PROPS.includes(k)) throw bad(k, `cannot update ${k}`);
  }
  const sortOrder = sortOrderOf(patch.sortOrder);
  if (patch.role !== undefined) {
    const now = mb.name === "INBOX" ? "inbox" : mb.specialUse ? ROLES[mb.specialUse] : null;
    if (patch.role !== now) {
      if (mb.name === "INBOX") throw bad("role", "INBOX keeps its role");
      const specialUse = roleToSpecialUse(view, patch.role);
      await store.setSpecialUse(mb.id, specialUse);
      view.byId.set(mb.id, { ...mb, specialUse });
    }
  }
  if (patch.name !== undefined || patch.parentId !== undefined) {
    const name = patch.name ?? (mb.name === "INBOX" ? "Inbox" : leafOf(mb));
    let to: string;
    if (patch.parentId !== undefined) to = fullName(view, name, patch.parentId);
    else {
      // Same parent: keep the IMAP prefix (whose levels need not all exist).
      const prefix = parentNameOf(mb);
      fullName(view, name, null);
      to = prefix === null ? normalizeMailboxName(name as string) : `${prefix}/${name}`;
    }
    if (to !== mb.name) {
      if (mb.name === "INBOX") throw new SetFailure("forbidden", "INBOX cannot be renamed");
      if (to.startsWith(mb.name + "/")) throw bad("parentId", "a mailbox cannot be its own child");
      await store.renameMailbox(mb.id, to).catch((e) => storeFailure(view, to, e));
    }
  }
  if (sortOrder !== null) {
    const now = (await readSortOrders(store, view.ctx.account.id)).get(mb.id);
    if (sortOrder !== now) {
      await writeSortOrder(view.ctx, mb.id, sortOrder);
      // The document is not in the change log: a same-value write of the mailbox row logs
      // the update, so the Mailbox state moves and /changes names it (RFC 8620 §5.2).
      const fresh = (await store.getMailboxById(mb.id))!;
      await store.setSpecialUse(mb.id, fresh.specialUse);
    }
  }
  if (patch.isSubscribed !== undefined) {
    if (typeof patch.isSubscribed !== "boolean") throw bad("isSubscribed", "not a boolean");
    const fresh = (await store.getMailboxById(mb.id))!;
    await store.setSubscribed(view.ctx.account.id, fresh.name, patch.isSubscribed);
  }
}

async function destroy(view: View, mb: Mailbox, removeEmails: boolean): Promise<void> {
  if (mb.name === "INBOX") throw new SetFailure("forbidden", "INBOX cannot be destroyed");
  const store = view.ctx.deps.store;
  const boxes = await store.listMailboxes(view.ctx.account.id);
  if (boxes.some((m) => m.name.startsWith(mb.name + "/"))) {
    throw new SetFailure("mailboxHasChild");
  }
  if (!removeEmails && (await store.mailboxStatus(mb.id)).messages > 0) {
    throw new SetFailure("mailboxHasEmail");
  }
  await store.deleteMailbox(mb.id).catch((e) => storeFailure(view, mb.name, e));
  await writeSortOrder(view.ctx, mb.id, null);
  view.byId.delete(mb.id);
}

const set: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "ifInState",
      "create",
      "update",
      "destroy",
      "onDestroyRemoveEmails",
    ]);
    const accountId = requireAccount(ctx, args);
    const store = ctx.deps.store;
    const oldState = await stateOf(store, ctx.account.id, "mailbox");
    const ifInState = stringArg(args, "ifInState");
    if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
    const creates = objectArg(args, "create") ?? {};
    const updates = objectArg(args, "update") ?? {};
    const destroys = idList(args, "destroy", ctx.limits.maxObjectsInSet) ?? [];
    const removeEmails = boolArg(args, "onDestroyRemoveEmails", false);
    const count = Object.keys(creates).length + Object.keys(updates).length + destroys.length;
    if (count > ctx.limits.maxObjectsInSet) throw new MethodError("requestTooLarge");
    const view: View = {
      byId: new Map((await store.listMailboxes(ctx.account.id)).map((m) => [m.id, m])),
      ctx,
    };
    const created: JsonObject = {};
    const notCreated: Record<string, SetError> = {};
    const updated: JsonObject = {};
    const notUpdated: Record<string, SetError> = {};
    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};
    const createdFrom = new Map<string, { id: number; given: string[] }>();

    // Parents before children: a create may name another create as "#parentId".
    for (const [cid, obj] of Object.entries(creates)) {
      const r = await oneObject(() => create(view, obj));
      if ("type" in r) notCreated[cid] = r;
      else {
        ctx.createdIds.set(cid, mailboxIdOf(r.id));
        createdFrom.set(cid, { id: r.id, given: isObject(obj) ? Object.keys(obj) : [] });
      }
    }
    for (const [id, patch] of Object.entries(updates)) {
      const mb = resolve(view, id);
      const r = await oneObject(async () => {
        if (!mb) throw new SetFailure("notFound");
        await update(view, mb, patch);
        return null;
      });
      if (r === null) updated[id] = null;
      else notUpdated[id] = r;
    }
    for (const id of destroys) {
      const mb = resolve(view, id);
      const r = await oneObject(async () => {
        if (!mb) throw new SetFailure("notFound");
        await destroy(view, mb, removeEmails);
        return null;
      });
      if (r === null) destroyed.push(id);
      else notDestroyed[id] = r;
    }
    if (createdFrom.size > 0) {
      // RFC 8620 §5.3: created objects carry the server-set properties the client did not give.
      const entries = await loadMailboxes(store, ctx.account.id);
      const byName = new Map(entries.map((e) => [e.mailbox.name, e.mailbox]));
      for (const [cid, { id, given }] of createdFrom) {
        const e = entries.find((x) => x.mailbox.id === id);
        if (!e) continue;
        const full = toJmap(e, byName);
        created[cid] = Object.fromEntries(Object.entries(full).filter(([k]) => !given.includes(k)));
      }
    }
    const orNull = (o: object) => Object.keys(o).length ? o : null;
    return {
      accountId,
      oldState,
      newState: await stateOf(store, ctx.account.id, "mailbox"),
      created: orNull(created),
      updated: orNull(updated),
      destroyed: destroyed.length ? destroyed : null,
      notCreated: orNull(notCreated),
      notUpdated: orNull(notUpdated),
      notDestroyed: orNull(notDestroyed),
    };
  },
};

export const MAILBOX_SET_METHODS: Record<string, JmapMethod> = { "Mailbox/set": set };
