/**
 * Thread methods (RFC 8621 §3). Until threading lands, every Email is its own Thread
 * (`t<blob>` holds `e<blob>`, ids.ts), which RFC 8621 §3 allows ("a server MAY ... put
 * each Email in its own Thread"); the Thread state is the Email state.
 *
 * @module
 */
import { emailState, loadEmails } from "./account_view.ts";
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
    return { accountId, state: emailState(mailboxes), list, notFound };
  },
};

/** RFC 8620 §5.2 /changes for Thread: same state or cannotCalculateChanges. */
const changes: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "sinceState", "maxChanges"]);
    const accountId = requireAccount(ctx, args);
    const since = stringArg(args, "sinceState");
    if (since === null) throw invalidArguments("sinceState is required");
    intArg(args, "maxChanges", 0, 1);
    const state = emailState(await ctx.deps.store.listMailboxes(ctx.account.id));
    if (since !== state) throw new MethodError("cannotCalculateChanges");
    return {
      accountId,
      oldState: since,
      newState: state,
      hasMoreChanges: false,
      created: [],
      updated: [],
      destroyed: [],
    };
  },
};

export const THREAD_METHODS: Record<string, JmapMethod> = {
  "Thread/get": get,
  "Thread/changes": changes,
};
