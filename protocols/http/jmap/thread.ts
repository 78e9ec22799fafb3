/**
 * Thread methods (RFC 8621 §3). Until threading lands, every Email is its own Thread
 * (`t<blob>` holds `e<blob>`, ids.ts), which RFC 8621 §3 allows ("a server MAY ... put
 * each Email in its own Thread"); the Thread state is the Email state.
 *
 * @module
 */
import { loadEmails } from "./account_view.ts";
import { emailChanges, stateOf } from "./state.ts";
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
import { emailIdOf, parseThreadId, threadIdOf } from "./ids.ts";
import { MAIL } from "./session.ts";

/** RFC 8620 §5.1 /get for Thread. */
const get: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ids", "properties"]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? ["id", "emailIds"];
    const unknown = properties.find((p) => p !== "id" && p !== "emailIds");
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const state = await stateOf(ctx.deps.store, ctx.account.id, "email");
    const mailboxes = await ctx.deps.store.listMailboxes(ctx.account.id);
    const emails = await loadEmails(ctx.deps.store, mailboxes);
    const wanted = ids ?? [...emails.keys()].map(threadIdOf);
    if (wanted.length > ctx.limits.maxObjectsInGet) throw new MethodError("requestTooLarge");
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const blob = parseThreadId(id);
      if (blob !== null && emails.has(blob)) {
        list.push(pick({ id, emailIds: [emailIdOf(blob)] }, properties));
      } else {
        notFound.push(id);
      }
    }
    return { accountId, state, list, notFound };
  },
};

/** RFC 8620 §5.2 /changes for Thread: one Thread per Email, so the Email changes. */
const changes: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "sinceState", "maxChanges"]);
    const accountId = requireAccount(ctx, args);
    const since = stringArg(args, "sinceState");
    if (since === null) throw invalidArguments("sinceState is required");
    const max = args.maxChanges == null ? null : intArg(args, "maxChanges", 0, 1);
    const c = await emailChanges(ctx.deps.store, ctx.account.id, since, max);
    return {
      accountId,
      oldState: since,
      newState: c.newState,
      hasMoreChanges: c.hasMoreChanges,
      created: c.created.map(threadIdOf),
      updated: c.updated.map(threadIdOf),
      destroyed: c.destroyed.map(threadIdOf),
    };
  },
};

export const THREAD_METHODS: Record<string, JmapMethod> = {
  "Thread/get": get,
  "Thread/changes": changes,
};
