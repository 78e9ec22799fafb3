/**
 * Thread methods (RFC 8621 §3). Threads are assigned by the store when mail arrives
 * (storage/sqlite/threads.ts: references plus base subject); a thread's id is `t<blob>` of
 * its first Email (ids.ts), so it never changes. The Thread state is the Email state.
 *
 * @module
 */
import { type EmailEntry, emailsOf } from "./account_view.ts";
import { type Changes, emailChanges, stateOf } from "./state.ts";
import type { Store } from "../../../storage/mod.ts";
import {
  checkArgs,
  idList,
  type JmapMethod,
  pick,
  propertyList,
  requireAccount,
} from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { emailIdOf, parseThreadId, threadIdOf } from "./ids.ts";
import { MAIL } from "./session.ts";
import { changesMethod } from "./changes_method.ts";

/** Emails by thread id, each thread oldest first (RFC 8621 §3: sorted by receivedAt). */
export function threadsOf(emails: Iterable<EmailEntry>): Map<number, EmailEntry[]> {
  const threads = new Map<number, EmailEntry[]>();
  for (const e of emails) {
    const t = threads.get(e.threadId);
    if (t) t.push(e);
    else threads.set(e.threadId, [e]);
  }
  for (const t of threads.values()) {
    t.sort((a, b) => a.receivedAt - b.receivedAt || a.blobId - b.blobId);
  }
  return threads;
}

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
    const store = ctx.deps.store;
    const emails = emailsOf(
      ids === null ? await store.accountCopies(ctx.account.id) : await store.threadCopies(
        ctx.account.id,
        ids.map(parseThreadId).filter((t) => t !== null),
      ),
    );
    const threads = threadsOf(emails.values());
    const wanted = ids ?? [...threads.keys()].map(threadIdOf);
    if (wanted.length > ctx.limits.maxObjectsInGet) throw new MethodError("requestTooLarge");
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const thread = parseThreadId(id);
      const members = thread === null ? undefined : threads.get(thread);
      if (members) {
        list.push(pick({ id, emailIds: members.map((e) => emailIdOf(e.blobId)) }, properties));
      } else {
        notFound.push(id);
      }
    }
    return { accountId, state: await stateOf(store, ctx.account.id, "email"), list, notFound };
  },
};

/**
 * RFC 8620 §5.2 /changes for Thread, from the Email change log: a thread changes when one of
 * its Emails does. A thread is created with its first Email (its id is that Email's blob id),
 * so a created Email that starts its thread is a created thread; any other changed Email
 * updates its thread. A destroyed Email's thread is reported by that Email's id (a thread
 * that lost its first Email): a client re-fetching it gets it, or notFound.
 */
async function threadChanges(
  store: Store,
  accountId: number,
  since: string,
  max: number | null,
): Promise<Changes> {
  const c = await emailChanges(store, accountId, since, max);
  const threadOf = new Map(
    (await store.emailCopies(accountId, [...c.created, ...c.updated]))
      .map((m) => [m.blobId, m.threadId]),
  );
  const created = new Set<number>();
  const updated = new Set<number>();
  for (const blob of c.created) {
    const t = threadOf.get(blob);
    if (t !== undefined) (t === blob ? created : updated).add(t);
  }
  for (const blob of c.updated) {
    const t = threadOf.get(blob);
    if (t !== undefined) updated.add(t);
  }
  for (const t of created) updated.delete(t);
  return {
    ...c,
    created: [...created],
    updated: [...updated],
    destroyed: c.destroyed.filter((b) => !threadOf.has(b)),
  };
}

const changes = changesMethod({ capability: MAIL, load: threadChanges, idOf: threadIdOf });

export const THREAD_METHODS: Record<string, JmapMethod> = {
  "Thread/get": get,
  "Thread/changes": changes,
};
