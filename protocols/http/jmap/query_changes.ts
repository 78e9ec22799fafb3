/**
 * The /queryChanges answer (RFC 8620 §5.6) shared by Email and Mailbox: the query is run
 * again and compared with the objects the change log names since `sinceQueryState`.
 *
 * Every changed object is listed in `removed` (§5.6 allows ids that did not really leave
 * the results), and those of them in the current results are in `added` with their index
 * there. Replaying removed then added on the client's old list gives the current list:
 * an object the log does not name has not changed, so neither has its relative position.
 * `upToId` is ignored, which §5.6 allows (it only lets a server omit changes).
 *
 * @module
 */
import {
  boolArg,
  checkArgs,
  intArg,
  type MethodContext,
  requireAccount,
  stringArg,
} from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import type { JsonObject } from "./json.ts";

export interface QueryDiff {
  removed: string[];
  added: { id: string; index: number }[];
}

/**
 * `removed` and `added` for the ids the change log names (`changed`) against the full
 * current result list (`current`); tooManyChanges once they exceed `maxChanges`.
 */
export function queryDiff(
  changed: readonly string[],
  current: readonly string[],
  maxChanges: number | null,
): QueryDiff {
  const named = new Set(changed);
  const added: QueryDiff["added"] = [];
  current.forEach((id, index) => {
    if (named.has(id)) added.push({ id, index });
  });
  const removed = [...named];
  if (maxChanges !== null && removed.length + added.length > maxChanges) {
    throw new MethodError("tooManyChanges");
  }
  return { removed, added };
}

/** The /queryChanges response object (RFC 8620 §5.6). */
export function queryChangesResponse(
  accountId: string,
  oldQueryState: string,
  newQueryState: string,
  diff: QueryDiff,
  total: number | null,
): JsonObject {
  const out: JsonObject = {
    accountId,
    oldQueryState,
    newQueryState,
    removed: diff.removed,
    added: diff.added,
  };
  if (total !== null) out.total = total;
  return out;
}

/** The arguments every /queryChanges takes (RFC 8620 §5.6), checked. */
export interface QueryChangesArgs {
  accountId: string;
  since: string;
  maxChanges: number | null;
  calculateTotal: boolean;
}

/**
 * Checks the common /queryChanges arguments; `own` names the type's own query arguments
 * (collapseThreads, sortAsTree, …), which the caller reads.
 */
export function queryChangesArgs(
  ctx: MethodContext,
  args: JsonObject,
  own: readonly string[] = [],
): QueryChangesArgs {
  checkArgs(args, [
    "accountId",
    "filter",
    "sort",
    "sinceQueryState",
    "maxChanges",
    "upToId",
    "calculateTotal",
    ...own,
  ]);
  const accountId = requireAccount(ctx, args);
  const since = stringArg(args, "sinceQueryState");
  if (since === null) throw invalidArguments("sinceQueryState is required");
  const maxChanges = args.maxChanges === undefined || args.maxChanges === null
    ? null
    : intArg(args, "maxChanges", 0, 1);
  stringArg(args, "upToId"); // RFC 8620 §5.6: a hint; every change is reported anyway
  return { accountId, since, maxChanges, calculateTotal: boolArg(args, "calculateTotal", false) };
}
