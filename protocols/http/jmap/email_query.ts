/**
 * Email/query and Email/queryChanges (RFC 8621 §4.4, §4.5; RFC 8620 §5.5, §5.6): filters
 * and sorts over the account's Emails (account_view.ts).
 *
 * Filters are compiled once into predicates; nothing from the client becomes a RegExp.
 * Supported so far: the conditions in `CONDITIONS`, the text conditions of email_text.ts,
 * and sorting by receivedAt and size;
 * others are unsupportedFilter / unsupportedSort (RFC 8620 §5.5).
 *
 * @module
 */
import { type EmailEntry, loadEmails } from "./account_view.ts";
import { stateOf } from "./state.ts";
import {
  boolArg,
  checkArgs,
  intArg,
  type JmapMethod,
  objectArg,
  requireAccount,
  stringArg,
} from "./context.ts";
import { keywordsOf } from "./keywords.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { emailIdOf, parseEmailId, parseMailboxId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { MAIL } from "./session.ts";
import { resolveTextConditions, TEXT_CONDITIONS, type TextCondition } from "./email_text.ts";

function hasKeyword(e: EmailEntry, keyword: string): boolean {
  return Object.hasOwn(keywordsOf(e.flags), keyword.toLowerCase());
}

/** Most ids one Email/query returns when the client sets no (or a larger) limit. */
const MAX_QUERY_LIMIT = 1000;

/** RFC 8621 §4.4.1 filter conditions supported so far. */
const CONDITIONS = [
  "inMailbox",
  "inMailboxOtherThan",
  "before",
  "after",
  "minSize",
  "maxSize",
  "hasKeyword",
  "notKeyword",
];

type Predicate = (e: EmailEntry) => boolean;

/**
 * Compiles a Filter (RFC 8620 §5.5: FilterOperator or FilterCondition). Text conditions
 * are added to `texts`; their predicates hold once `resolveTextConditions` has run.
 */
function compileFilter(f: unknown, texts: TextCondition[], depth = 0): Predicate {
  if (!isObject(f)) throw invalidArguments("a filter is an object");
  if (depth > 16) throw new MethodError("unsupportedFilter", "filter nested too deeply");
  if (Object.hasOwn(f, "operator")) {
    const { operator, conditions } = f;
    if (!Array.isArray(conditions)) throw invalidArguments("conditions must be a list");
    const parts = conditions.map((c) => compileFilter(c, texts, depth + 1));
    switch (operator) {
      case "AND":
        return (e) => parts.every((p) => p(e));
      case "OR":
        return (e) => parts.some((p) => p(e));
      case "NOT":
        return (e) => !parts.some((p) => p(e));
      default:
        throw invalidArguments("operator must be AND, OR or NOT");
    }
  }
  const preds: Predicate[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (Object.hasOwn(TEXT_CONDITIONS, k)) {
      if (typeof v !== "string") throw invalidArguments(`${k} must be a string`);
      const c: TextCondition = { kind: k, needle: v.toLowerCase(), matches: new Set() };
      texts.push(c);
      preds.push((e) => c.matches.has(e.blobId));
      continue;
    }
    if (!CONDITIONS.includes(k)) {
      throw new MethodError("unsupportedFilter", `unsupported condition ${k.slice(0, 100)}`);
    }
    preds.push(condition(k, v));
  }
  return (e) => preds.every((p) => p(e));
}

function condition(k: string, v: unknown): Predicate {
  const mailboxId = () => {
    // An id that is not a mailbox id matches nothing (it cannot name one of ours).
    if (typeof v !== "string") throw invalidArguments(`${k} must be a mailbox id`);
    return parseMailboxId(v) ?? -1;
  };
  const date = () => {
    const t = typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)
      ? Date.parse(v)
      : NaN;
    if (!Number.isFinite(t)) throw invalidArguments(`${k} must be a UTCDate`);
    return t;
  };
  const size = () => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw invalidArguments(`${k} must be an unsigned integer`);
    }
    return v;
  };
  const keyword = () => {
    if (typeof v !== "string" || v === "") throw invalidArguments(`${k} must be a keyword`);
    return v;
  };
  switch (k) {
    case "inMailbox": {
      const id = mailboxId();
      return (e) => e.mailboxIds.includes(id);
    }
    case "inMailboxOtherThan": {
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
        throw invalidArguments("inMailboxOtherThan must be a list of mailbox ids");
      }
      const ids = new Set(v.map((x) => parseMailboxId(x) ?? -1));
      return (e) => e.mailboxIds.some((m) => !ids.has(m));
    }
    case "before": {
      const t = date();
      return (e) => e.receivedAt < t;
    }
    case "after": {
      const t = date();
      return (e) => e.receivedAt >= t;
    }
    case "minSize": {
      const n = size();
      return (e) => e.size >= n;
    }
    case "maxSize": {
      const n = size();
      return (e) => e.size < n;
    }
    case "hasKeyword": {
      const kw = keyword();
      return (e) => hasKeyword(e, kw);
    }
    default: {
      const kw = keyword();
      return (e) => !hasKeyword(e, kw);
    }
  }
}

type Compare = (a: EmailEntry, b: EmailEntry) => number;

/** RFC 8621 §4.4.2 sort; receivedAt newest first when none is given. */
function compileSort(sort: unknown): Compare {
  const keys: Array<{ property: string; asc: boolean }> = [];
  if (sort === undefined || sort === null) {
    keys.push({ property: "receivedAt", asc: false });
  } else {
    if (!Array.isArray(sort)) throw invalidArguments("sort must be a list");
    for (const c of sort) {
      if (!isObject(c) || typeof c.property !== "string") {
        throw invalidArguments("each sort is a Comparator object");
      }
      for (const k of Object.keys(c)) {
        if (!["property", "isAscending", "collation"].includes(k)) {
          throw invalidArguments(`unknown comparator property ${k.slice(0, 100)}`);
        }
      }
      if (c.isAscending !== undefined && typeof c.isAscending !== "boolean") {
        throw invalidArguments("isAscending must be a boolean");
      }
      if (c.property !== "receivedAt" && c.property !== "size") {
        throw new MethodError("unsupportedSort", `cannot sort by ${c.property.slice(0, 100)}`);
      }
      keys.push({ property: c.property, asc: c.isAscending !== false });
    }
  }
  const value = (e: EmailEntry, p: string) => p === "size" ? e.size : e.receivedAt;
  return (a, b) => {
    for (const k of keys) {
      const d = value(a, k.property) - value(b, k.property);
      if (d !== 0) return k.asc ? d : -d;
    }
    // A stable order for equal keys: newer storage first, like the default.
    return b.blobId - a.blobId;
  };
}

/** RFC 8620 §5.5 /query for Email. */
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
      "collapseThreads",
    ]);
    const accountId = requireAccount(ctx, args);
    const filter = objectArg(args, "filter");
    const texts: TextCondition[] = [];
    const matches = filter ? compileFilter(filter, texts) : () => true;
    const compare = compileSort(args.sort);
    const givenPosition = args.position ?? 0;
    if (typeof givenPosition !== "number" || !Number.isSafeInteger(givenPosition)) {
      throw invalidArguments("position must be an integer");
    }
    let position = givenPosition;
    const anchor = stringArg(args, "anchor");
    const anchorOffset = args.anchorOffset ?? 0;
    if (typeof anchorOffset !== "number" || !Number.isSafeInteger(anchorOffset)) {
      throw invalidArguments("anchorOffset must be an integer");
    }
    const asked = args.limit === undefined || args.limit === null
      ? null
      : intArg(args, "limit", 0, 0);
    const calculateTotal = boolArg(args, "calculateTotal", false);
    boolArg(args, "collapseThreads", false); // one thread per email: collapsing changes nothing

    const queryState = await stateOf(ctx.deps.store, ctx.account.id, "email");
    const mailboxes = await ctx.deps.store.listMailboxes(ctx.account.id);
    const emails = await loadEmails(ctx.deps.store, mailboxes);
    await resolveTextConditions(ctx.deps.store, emails, texts);
    const sorted = [...emails.values()].filter(matches).sort(compare);
    const total = sorted.length;
    if (anchor !== null) {
      const blob = parseEmailId(anchor);
      const at = blob === null ? -1 : sorted.findIndex((e) => e.blobId === blob);
      if (at < 0) throw new MethodError("anchorNotFound");
      position = Math.max(0, at + anchorOffset);
    } else if (position < 0) {
      position = Math.max(0, total + position);
    }
    const limit = Math.min(asked ?? MAX_QUERY_LIMIT, MAX_QUERY_LIMIT);
    const ids = sorted.slice(position, position + limit).map((e) => emailIdOf(e.blobId));
    const out: JsonObject = {
      accountId,
      queryState,
      canCalculateChanges: false,
      position,
      ids,
    };
    if (calculateTotal) out.total = total;
    if (asked === null || asked > MAX_QUERY_LIMIT) out.limit = limit;
    return out;
  },
};

/** RFC 8620 §5.6: query states are digests, so changes cannot be calculated yet. */
const queryChanges: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "filter",
      "sort",
      "sinceQueryState",
      "maxChanges",
      "upToId",
      "calculateTotal",
      "collapseThreads",
    ]);
    requireAccount(ctx, args);
    if (stringArg(args, "sinceQueryState") === null) {
      throw invalidArguments("sinceQueryState is required");
    }
    await Promise.resolve();
    throw new MethodError("cannotCalculateChanges");
  },
};

export const EMAIL_QUERY_METHODS: Record<string, JmapMethod> = {
  "Email/query": query,
  "Email/queryChanges": queryChanges,
};
