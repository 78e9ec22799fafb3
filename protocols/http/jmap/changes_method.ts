/**
 * RFC 8620 §5.2 `Foo/changes`, one shape for every type the change log follows (Email,
 * Mailbox, Thread): the arguments are checked here, the type supplies how its changes are
 * read (state.ts) and how its ids are written.
 *
 * @module
 */
import type { Store } from "../../../storage/mod.ts";
import { checkArgs, intArg, type JmapMethod, requireAccount, stringArg } from "./context.ts";
import { invalidArguments } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { Changes } from "./state.ts";

export interface ChangesSpec {
  capability: string;
  /** The changes since `since` (at most `max` ids when given). */
  load(store: Store, accountId: number, since: string, max: number | null): Promise<Changes>;
  /** A storage id as this type's JMAP id. */
  idOf(id: number): string;
  /** Properties a type adds to the response (Mailbox: updatedProperties). */
  extra?(c: Changes): JsonObject;
}

/** The /changes method of one type. */
export function changesMethod(spec: ChangesSpec): JmapMethod {
  return {
    capability: spec.capability,
    async run(ctx, args) {
      checkArgs(args, ["accountId", "sinceState", "maxChanges"]);
      const accountId = requireAccount(ctx, args);
      const since = stringArg(args, "sinceState");
      if (since === null) throw invalidArguments("sinceState is required");
      const max = args.maxChanges == null ? null : intArg(args, "maxChanges", 0, 1);
      const c = await spec.load(ctx.deps.store, ctx.account.id, since, max);
      return {
        accountId,
        oldState: since,
        newState: c.newState,
        hasMoreChanges: c.hasMoreChanges,
        created: c.created.map(spec.idOf),
        updated: c.updated.map(spec.idOf),
        destroyed: c.destroyed.map(spec.idOf),
        ...spec.extra?.(c),
      };
    },
  };
}
