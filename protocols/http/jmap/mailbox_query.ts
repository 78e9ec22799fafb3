/**
 * Mailbox/query and Mailbox/queryChanges (RFC 8621 §2.3, §2.4; RFC 8620 §5.5, §5.6) over
 * the Mailbox objects of mailbox.ts.
 *
 * @module
 */
import { loadMailboxes } from "./account_view.ts";
import { mailboxChanges, stateOf } from "./state.ts";
import { queryChangesArgs, queryChangesResponse, queryDiff } from "./query_changes.ts";
import { mailboxIdOf } from "./ids.ts";
import {
  boolArg,
  checkArgs,
  type JmapMethod,
  type MethodContext,
  objectArg,
  requireAccount,
  windowArgs,
} from "./context.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import { toJmap } from "./mailbox.ts";
import { MAIL } from "./session.ts";

type Box = Record<string, unknown> & { id: string; parentId: string | null; name: string };
type Predicate = (m: Box) => boolean;

/**
 * Conditions one filter may hold in all, as for Email/query (email_filter.ts): each is
 * evaluated against every mailbox, and a request of megabytes held ~10^5 of them.
 */
const MAX_NODES = 256;

/** RFC 8621 §2.3 FilterCondition, or a FilterOperator of them. */
function compileFilter(f: unknown, depth = 0, nodes = { n: 0 }): Predicate {
  if (!isObject(f)) throw invalidArguments("a filter is an object");
  if (depth > 16) throw new MethodError("unsupportedFilter", "filter nested too deeply");
  if (++nodes.n > MAX_NODES) throw new MethodError("unsupportedFilter", "filter too large");
  if (Object.hasOwn(f, "operator")) {
    if (!Array.isArray(f.conditions)) throw invalidArguments("conditions must be a list");
    const parts = f.conditions.map((c) => compileFilter(c, depth + 1, nodes));
    if (f.operator === "AND") return (m) => parts.every((p) => p(m));
    if (f.operator === "OR") return (m) => parts.some((p) => p(m));
    if (f.operator === "NOT") return (m) => !parts.some((p) => p(m));
    throw invalidArguments("operator must be AND, OR or NOT");
  }
  const preds: Predicate[] = [];
  for (const [k, v] of Object.entries(f)) {
    switch (k) {
      case "parentId":
        if (v !== null && typeof v !== "string") throw invalidArguments("parentId: id or null");
        preds.push((m) => m.parentId === v);
        break;
      case "name": {
        if (typeof v !== "string") throw invalidArguments("name must be a string");
        const needle = v.toLowerCase();
        preds.push((m) => m.name.toLowerCase().includes(needle));
        break;
      }
      case "role":
        if (v !== null && typeof v !== "string") throw invalidArguments("role: string or null");
        preds.push((m) => m.role === v);
        break;
      case "hasAnyRole":
        if (typeof v !== "boolean") throw invalidArguments("hasAnyRole must be a boolean");
        preds.push((m) => (m.role !== null) === v);
        break;
      case "isSubscribed":
        if (typeof v !== "boolean") throw invalidArguments("isSubscribed must be a boolean");
        preds.push((m) => m.isSubscribed === v);
        break;
      default:
        throw new MethodError("unsupportedFilter", `unsupported condition ${k.slice(0, 100)}`);
    }
  }
  return (m) => preds.every((p) => p(m));
}

function compileSort(sort: unknown): (a: Box, b: Box) => number {
  if (sort === undefined || sort === null) return () => 0;
  if (!Array.isArray(sort)) throw invalidArguments("sort must be a list");
  const keys = sort.map((c) => {
    if (!isObject(c) || (c.property !== "name" && c.property !== "sortOrder")) {
      throw new MethodError("unsupportedSort", "Mailbox sorts by name or sortOrder");
    }
    return { property: c.property, asc: c.isAscending !== false };
  });
  return (a, b) => {
    for (const k of keys) {
      const d = k.property === "name"
        ? a.name.localeCompare(b.name)
        : (a.sortOrder as number) - (b.sortOrder as number);
      if (d !== 0) return k.asc ? d : -d;
    }
    return 0;
  };
}

/** Every Mailbox the query's filter, sort, sortAsTree and filterAsTree give, in order. */
async function results(ctx: MethodContext, args: JsonObject): Promise<Box[]> {
  const filter = objectArg(args, "filter");
  const matches = filter ? compileFilter(filter) : () => true;
  const compare = compileSort(args.sort);
  const sortAsTree = boolArg(args, "sortAsTree", false);
  const filterAsTree = boolArg(args, "filterAsTree", false);
  const entries = await loadMailboxes(ctx.deps.store, ctx.account.id);
  const byName = new Map(entries.map((e) => [e.mailbox.name, e.mailbox]));
  const boxes = entries.map((e) => toJmap(e, byName) as Box);
  const byId = new Map(boxes.map((b) => [b.id, b]));
  // filterAsTree: a mailbox matches only if its ancestors match too.
  const ok = (b: Box): boolean =>
    matches(b) && (!filterAsTree || b.parentId === null || ok(byId.get(b.parentId)!));
  const list = boxes.filter(ok).sort(compare);
  return sortAsTree ? asTree(list, compare) : list;
}

/** RFC 8620 §5.5 /query for Mailbox, with RFC 8621 §2.3 sortAsTree and filterAsTree. */
const query: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "filter",
      "sort",
      "position",
      "anchor",
      "anchorOffset",
      "limit",
      "calculateTotal",
      "sortAsTree",
      "filterAsTree",
    ]);
    const accountId = requireAccount(ctx, args);
    const { position, anchor, anchorOffset, limit } = windowArgs(args);
    const calculateTotal = boolArg(args, "calculateTotal", false);

    const queryState = await stateOf(ctx.deps.store, ctx.account.id, "mailbox");
    const list = await results(ctx, args);
    let start = position < 0 ? Math.max(0, list.length + position) : position;
    if (anchor !== null) {
      const at = list.findIndex((b) => b.id === anchor);
      if (at < 0) throw new MethodError("anchorNotFound");
      start = Math.max(0, at + anchorOffset);
    }
    const ids = list.slice(start, limit === null ? undefined : start + limit).map((b) => b.id);
    const out: JsonObject = {
      accountId,
      queryState,
      canCalculateChanges: true,
      position: start,
      ids,
    };
    if (calculateTotal) out.total = list.length;
    return out;
  },
};

/** RFC 8621 §2.3 sortAsTree: each parent, then its children (sorted among themselves). */
function asTree(list: Box[], compare: (a: Box, b: Box) => number): Box[] {
  const present = new Set(list.map((b) => b.id));
  const children = new Map<string | null, Box[]>();
  for (const b of list) {
    const parent = b.parentId !== null && present.has(b.parentId) ? b.parentId : null;
    const siblings = children.get(parent) ?? [];
    siblings.push(b);
    children.set(parent, siblings);
  }
  const out: Box[] = [];
  const walk = (parent: string | null, depth: number) => {
    if (depth > 100) return;
    for (const b of (children.get(parent) ?? []).sort(compare)) {
      out.push(b);
      walk(b.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/**
 * RFC 8620 §5.6 /queryChanges: the Mailboxes the change log names since the state
 * (query_changes.ts). A tree query moves a child with its parent, which the log does not
 * name, so there every current result is named too.
 */
const queryChanges: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    const { accountId, since, maxChanges, calculateTotal } = queryChangesArgs(ctx, args, [
      "sortAsTree",
      "filterAsTree",
    ]);
    const store = ctx.deps.store;
    const queryState = await stateOf(store, ctx.account.id, "mailbox");
    const list = (await results(ctx, args)).map((b) => b.id);
    const total = calculateTotal ? list.length : null;
    if (since === queryState) {
      return queryChangesResponse(accountId, since, queryState, { removed: [], added: [] }, total);
    }
    const c = await mailboxChanges(store, ctx.account.id, since, null);
    const changed = [...c.created, ...c.updated, ...c.destroyed].map(mailboxIdOf);
    const tree = boolArg(args, "sortAsTree", false) || boolArg(args, "filterAsTree", false);
    const diff = queryDiff(tree ? [...changed, ...list] : changed, list, maxChanges);
    return queryChangesResponse(accountId, since, queryState, diff, total);
  },
};

export const MAILBOX_QUERY_METHODS: Record<string, JmapMethod> = {
  "Mailbox/query": query,
  "Mailbox/queryChanges": queryChanges,
};
