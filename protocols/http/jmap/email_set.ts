/**
 * Email/set (RFC 8621 §4.6, RFC 8620 §5.3): create (email_build.ts, stored by
 * email_import.ts placeEmail), update of keywords and mailboxIds and destroy
 * (email_update.ts). `ifInState` is checked against the change-log state (state.ts); each
 * object fails or succeeds on its own with a SetError.
 *
 * Invariant: only the caller's Emails and mailboxes are found; another account's ids are
 * notFound (update, destroy) or invalidProperties (mailboxIds), never touched.
 *
 * @module
 */
import { readAccountBlob } from "./blob.ts";
import {
  checkArgs,
  idList,
  type JmapMethod,
  objectArg,
  requireAccount,
  stringArg,
} from "./context.ts";
import { buildEmail } from "./email_build.ts";
import { isSetError, loadSetView, oneObject, placeEmail, receivedAtOf } from "./email_import.ts";
import { destroyEmail, keywordSet, mailboxSet, updateEmail } from "./email_update.ts";
import { MethodError, SetFailure } from "./errors.ts";
import { parseEmailId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { MAIL } from "./session.ts";
import { stateOf } from "./state.ts";

const orNull = (o: JsonObject) => Object.keys(o).length ? o : null;

const set: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ifInState", "create", "update", "destroy"]);
    const accountId = requireAccount(ctx, args);
    const store = ctx.deps.store;
    const oldState = await stateOf(store, ctx.account.id, "email");
    const ifInState = stringArg(args, "ifInState");
    if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
    const create = objectArg(args, "create") ?? {};
    const update = objectArg(args, "update") ?? {};
    const destroy = idList(args, "destroy", ctx.limits.maxObjectsInSet) ?? [];
    const count = Object.keys(create).length + Object.keys(update).length + destroy.length;
    if (count > ctx.limits.maxObjectsInSet) throw new MethodError("requestTooLarge");
    const view = await loadSetView(ctx);
    const out = {
      created: {} as JsonObject,
      notCreated: {} as JsonObject,
      updated: {} as JsonObject,
      notUpdated: {} as JsonObject,
      destroyed: [] as string[],
      notDestroyed: {} as JsonObject,
    };

    for (const [cid, obj] of Object.entries(create)) {
      const r = await oneObject(async () => {
        if (!isObject(obj)) throw new SetFailure("invalidProperties", "not an object");
        const boxes = mailboxSet(ctx, view, obj.mailboxIds);
        const keywords = keywordSet(obj.keywords ?? {});
        const receivedAt = receivedAtOf(obj.receivedAt);
        const bytes = await buildEmail(
          obj,
          (id) =>
            readAccountBlob(
              store,
              ctx.account.id,
              id.startsWith("#") ? ctx.createdIds.get(id.slice(1)) ?? id : id,
            ),
          ctx.deps.config.hostname,
        );
        return await placeEmail(ctx, view, bytes, boxes, keywords, receivedAt);
      });
      if (isSetError(r)) out.notCreated[cid] = r;
      else {
        out.created[cid] = r;
        ctx.createdIds.set(cid, r.id as string);
      }
    }

    for (const [id, patch] of Object.entries(update)) {
      const real = id.startsWith("#") ? ctx.createdIds.get(id.slice(1)) ?? id : id;
      const r = await oneObject(async () => {
        const blob = parseEmailId(real);
        const e = blob === null ? undefined : view.emails.get(blob);
        if (!e) throw new SetFailure("notFound");
        if (!isObject(patch)) throw new SetFailure("invalidPatch");
        await updateEmail(ctx, view, e, patch);
        return null;
      });
      if (r === null) out.updated[real] = null;
      else out.notUpdated[real] = r;
    }

    for (const id of destroy) {
      const real = id.startsWith("#") ? ctx.createdIds.get(id.slice(1)) ?? id : id;
      const blob = parseEmailId(real);
      const e = blob === null ? undefined : view.emails.get(blob);
      if (!e) {
        out.notDestroyed[real] = { type: "notFound" };
        continue;
      }
      await destroyEmail(ctx, e);
      view.emails.delete(e.blobId);
      out.destroyed.push(real);
    }

    return {
      accountId,
      oldState,
      newState: await stateOf(store, ctx.account.id, "email"),
      created: orNull(out.created),
      updated: orNull(out.updated),
      destroyed: out.destroyed.length ? out.destroyed : null,
      notCreated: orNull(out.notCreated),
      notUpdated: orNull(out.notUpdated),
      notDestroyed: orNull(out.notDestroyed),
    };
  },
};

export const EMAIL_SET_METHODS: Record<string, JmapMethod> = { "Email/set": set };
