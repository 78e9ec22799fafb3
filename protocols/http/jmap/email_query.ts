/**
 * Email/query and Email/queryChanges (RFC 8621 §4.4, §4.5; RFC 8620 §5.5, §5.6).
 *
 * Filters: email_filter.ts; sorts: email_sort.ts. Three ways to answer, cheapest first:
 * 1. no filter or exactly one inMailbox, sorted by receivedAt or size, without anchor: one
 *    page read in the store's order (`mailboxPage`, which also collapses threads);
 * 2. a filter whose top level requires a text condition (and needs no threads): the
 *    full-text index's candidates only are loaded and checked;
 *    Before that, when the filter is only text conditions (and an inMailbox), sorted by
 *    receivedAt or size without a total, the page order is walked and messages confirmed
 *    until the page is full, within a budget of reads (`textPage`): a common word fills
 *    the page at once, where the index would give every message as a candidate;
 * 3. otherwise every Email of the account is loaded, filtered and sorted.
 * Messages are read and parsed only when a condition or sort needs them, once per query.
 *
 * @module
 */
import type { Mailbox, Store } from "../../../storage/mod.ts";
import { type EmailEntry, loadEmails, loadEmailsByBlob, readListedEmail } from "./account_view.ts";
import { emailChanges, stateOf } from "./state.ts";
import { queryChangesArgs, queryChangesResponse, queryDiff } from "./query_changes.ts";
import {
  boolArg,
  checkArgs,
  type JmapMethod,
  type MethodContext,
  objectArg,
  requireAccount,
  windowArgs,
} from "./context.ts";
import { compileFilter, newNeeds, type Predicate, type QueryData } from "./email_filter.ts";
import { MessageInfo } from "./email_info.ts";
import { compileSort, parseSort, type SortKey } from "./email_sort.ts";
import {
  matchesAll,
  resolveTextConditions,
  TEXT_CONDITIONS,
  type TextCondition,
} from "./email_text.ts";
import { MethodError } from "./errors.ts";
import { emailIdOf, parseEmailId, parseMailboxId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { MAIL } from "./session.ts";
import { threadsOf } from "./thread.ts";

/** Most ids one Email/query returns when the client sets no (or a larger) limit. */
const MAX_QUERY_LIMIT = 1000;

/** The mailbox of a filter that is exactly `{inMailbox: id}`, else null. */
function onlyMailbox(filter: JsonObject | null): number | null {
  if (!filter) return null;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== "inMailbox") return null;
  return parseMailboxId(filter.inMailbox);
}

/** A text condition the whole filter requires (top level, or an AND's direct member). */
function requiredText(filter: JsonObject | null): TextCondition | null {
  if (!filter) return null;
  const conds = filter.operator === "AND" && Array.isArray(filter.conditions)
    ? filter.conditions
    : Object.hasOwn(filter, "operator")
    ? []
    : [filter];
  for (const c of conds) {
    if (!isObject(c) || Object.hasOwn(c, "operator")) continue;
    for (const [k, v] of Object.entries(c)) {
      if (Object.hasOwn(TEXT_CONDITIONS, k) && typeof v === "string") {
        return { kind: k, needle: v.toLowerCase(), matches: new Set() };
      }
    }
  }
  return null;
}

/** Blob ids the full-text index gives for `c` in the account, or null if it cannot narrow. */
async function textCandidates(
  store: Store,
  mailboxes: readonly Mailbox[],
  c: TextCondition,
): Promise<number[] | null> {
  if (!store.searchText) return null;
  const blobs = new Set<number>();
  for (const mb of mailboxes) {
    const uids = await store.searchText(mb.id, { part: TEXT_CONDITIONS[c.kind], value: c.needle });
    if (uids === null) return null;
    for (const m of await store.getMessages(mb.id, uids)) blobs.add(m.blobId);
  }
  return [...blobs];
}

/** Messages read by the walk of `textPage` beyond the page itself before it gives up. */
const WALK_BUDGET = 200;
/** Deepest page end the walk tries (deeper pages take the index). */
const WALK_MAX = 1000;

/** True for a filter of text conditions and at most one inMailbox (no operator). */
function onlyTextAndMailbox(filter: JsonObject): boolean {
  return !Object.hasOwn(filter, "operator") &&
    Object.keys(filter).every((k) => k === "inMailbox" || Object.hasOwn(TEXT_CONDITIONS, k));
}

/**
 * The page of a text query in the order of the store's page (`mailboxPage`): messages are
 * read and confirmed one by one until `position + limit` have matched. Null when that
 * needs more than `position + limit + WALK_BUDGET` reads (a rare word: the index is then
 * the cheaper way) or the page ends beyond `WALK_MAX`. The window is read in one store call (sorting a whole account is the
 * expensive part, done once).
 */
async function textPage(
  store: Store,
  q: {
    accountId: number;
    mailboxId: number | null;
    sort: "receivedAt" | "size";
    ascending: boolean;
    position: number;
    limit: number;
  },
  texts: readonly TextCondition[],
): Promise<number[] | null> {
  if (q.position + q.limit > WALK_MAX) return null;
  const window = q.position + q.limit + WALK_BUDGET;
  const page = await store.mailboxPage({ ...q, position: 0, limit: window, total: false });
  const out: number[] = [];
  let matched = 0;
  for (const blob of page.blobIds) {
    if (out.length >= q.limit) break;
    const bytes = await readListedEmail(store, q.accountId, blob);
    if (bytes === null || !matchesAll(bytes, texts)) continue; // null: destroyed meanwhile
    if (matched++ >= q.position) out.push(blob);
  }
  // The window held every Email, or the page is full: the answer is exact.
  return out.length >= q.limit || page.blobIds.length < window ? out : null;
}

/** The query data: parsed messages (loaded up front when needed) and threads. */
async function queryData(
  store: Store,
  accountId: number,
  emails: Map<number, EmailEntry>,
  needs: { parse: boolean; threads: boolean },
): Promise<QueryData> {
  const infos = new Map<number, MessageInfo>();
  if (needs.parse) {
    for (const blob of [...emails.keys()]) {
      const bytes = await readListedEmail(store, accountId, blob);
      if (bytes === null) emails.delete(blob); // destroyed meanwhile: not in the results
      else infos.set(blob, new MessageInfo(bytes));
    }
  }
  const threads = needs.threads ? threadsOf(emails.values()) : new Map<number, EmailEntry[]>();
  return {
    info: (e) => infos.get(e.blobId)!,
    thread: (e) => threads.get(e.threadId) ?? [e],
  };
}

/** The page of a query once the matching Emails are known in order. */
function page(
  sorted: readonly EmailEntry[],
  p: { position: number; anchor: string | null; anchorOffset: number; limit: number },
): { position: number; ids: string[] } {
  let position = p.position;
  if (p.anchor !== null) {
    const blob = parseEmailId(p.anchor);
    const at = blob === null ? -1 : sorted.findIndex((e) => e.blobId === blob);
    if (at < 0) throw new MethodError("anchorNotFound");
    position = Math.max(0, at + p.anchorOffset);
  } else if (position < 0) {
    position = Math.max(0, sorted.length + position);
  }
  const ids = sorted.slice(position, position + p.limit).map((e) => emailIdOf(e.blobId));
  return { position, ids };
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
    const needs = newNeeds();
    const predicate: Predicate | null = filter ? compileFilter(filter, needs) : null;
    const sortKeys: SortKey[] = parseSort(args.sort);
    const compare = compileSort(sortKeys, needs);
    const { position, anchor, anchorOffset, limit: asked } = windowArgs(args);
    const limit = Math.min(asked ?? MAX_QUERY_LIMIT, MAX_QUERY_LIMIT);
    const calculateTotal = boolArg(args, "calculateTotal", false);
    const collapse = boolArg(args, "collapseThreads", false);

    const store = ctx.deps.store;
    const mailboxes = await store.listMailboxes(ctx.account.id);
    const out: JsonObject = {
      accountId,
      queryState: await stateOf(store, ctx.account.id, "email"),
      canCalculateChanges: true,
    };
    if (asked === null || asked > MAX_QUERY_LIMIT) out.limit = limit;

    const mailboxId = onlyMailbox(filter);
    const sortKey = sortKeys.length === 1 ? sortKeys[0] : null;
    if (
      (filter === null || mailboxes.some((m) => m.id === mailboxId)) && anchor === null &&
      position >= 0 &&
      (sortKey?.property === "receivedAt" || sortKey?.property === "size")
    ) {
      const r = await store.mailboxPage({
        accountId: ctx.account.id,
        mailboxId,
        sort: sortKey.property,
        ascending: sortKey.asc,
        position,
        limit,
        total: calculateTotal,
        collapseThreads: collapse,
      });
      Object.assign(out, { position, ids: r.blobIds.map(emailIdOf) });
      if (calculateTotal) out.total = r.total;
      return out;
    }

    const textBox = filter?.inMailbox === undefined ? null : parseMailboxId(filter.inMailbox);
    if (
      needs.texts.length > 0 && filter && onlyTextAndMailbox(filter) &&
      (textBox === null
        ? filter.inMailbox === undefined
        : mailboxes.some((m) => m.id === textBox)) &&
      !calculateTotal && !collapse && anchor === null && position >= 0 &&
      (sortKey?.property === "receivedAt" || sortKey?.property === "size")
    ) {
      const blobIds = await textPage(store, {
        accountId: ctx.account.id,
        mailboxId: textBox,
        sort: sortKey.property,
        ascending: sortKey.asc,
        position,
        limit,
      }, needs.texts);
      if (blobIds) return Object.assign(out, { position, ids: blobIds.map(emailIdOf) });
    }
    const text = needs.threads ? null : requiredText(filter);
    const candidates = text ? await textCandidates(store, mailboxes, text) : null;
    const emails = candidates
      ? await loadEmailsByBlob(store, ctx.account.id, candidates)
      : await loadEmails(store, ctx.account.id);
    await resolveTextConditions(store, ctx.account.id, emails, needs.texts);
    const data = await queryData(store, ctx.account.id, emails, needs);
    let sorted = [...emails.values()];
    if (predicate) sorted = sorted.filter((e) => predicate(e, data));
    sorted.sort((a, b) => compare(a, b, data));
    if (collapse) {
      // RFC 8621 §4.4.3: only the first Email of each thread in the sorted results.
      const seen = new Set<number>();
      sorted = sorted.filter((e) => !seen.has(e.threadId) && seen.add(e.threadId) !== null);
    }
    Object.assign(out, page(sorted, { position, anchor, anchorOffset, limit }));
    if (calculateTotal) out.total = sorted.length;
    return out;
  },
};

/** Every id of the query's current results, read page by page through Email/query. */
async function allResults(ctx: MethodContext, args: JsonObject): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const r = await query.run(ctx, {
      accountId: args.accountId,
      filter: args.filter ?? null,
      sort: args.sort ?? null,
      collapseThreads: args.collapseThreads ?? false,
      position: ids.length,
      limit: MAX_QUERY_LIMIT,
    });
    const page = r.ids as string[];
    ids.push(...page);
    if (page.length < MAX_QUERY_LIMIT) return ids;
  }
}

/**
 * RFC 8620 §5.6 /queryChanges: the Emails the change log names since the state
 * (query_changes.ts). Under collapseThreads or a thread condition a change to one Email
 * moves others of its thread, which the log does not name, so there every current result
 * is named too.
 */
const queryChanges: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    const { accountId, since, maxChanges, calculateTotal } = queryChangesArgs(ctx, args, [
      "collapseThreads",
    ]);
    const collapse = boolArg(args, "collapseThreads", false);
    const filter = objectArg(args, "filter");
    const needs = newNeeds();
    if (filter) compileFilter(filter, needs);
    const store = ctx.deps.store;
    const queryState = await stateOf(store, ctx.account.id, "email");
    const list = await allResults(ctx, args);
    const total = calculateTotal ? list.length : null;
    if (since === queryState) {
      return queryChangesResponse(accountId, since, queryState, { removed: [], added: [] }, total);
    }
    const c = await emailChanges(store, ctx.account.id, since, null);
    const changed = [...c.created, ...c.updated, ...c.destroyed].map(emailIdOf);
    const threads = collapse || needs.threads;
    const diff = queryDiff(threads ? [...changed, ...list] : changed, list, maxChanges);
    return queryChangesResponse(accountId, since, queryState, diff, total);
  },
};

export const EMAIL_QUERY_METHODS: Record<string, JmapMethod> = {
  "Email/query": query,
  "Email/queryChanges": queryChanges,
};
