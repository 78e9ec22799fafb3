/**
 * Email methods (RFC 8621 §4): Email/get and Email/query, read through the Store.
 *
 * Keywords are the IMAP flags (RFC 8621 §4.1.1): `\Seen` is `$seen`, `\Flagged` `$flagged`,
 * `\Answered` `$answered`, `\Draft` `$draft`; other keywords lower-cased; `\Deleted` and
 * `\Recent` have no keyword.
 *
 * @module
 */
import { type MimePart, parseMime } from "../../../mime/mod.ts";
import {
  BODY_PROPERTIES,
  bodyLists,
  bodyStructure,
  bodyValue,
  DEFAULT_BODY_PROPERTIES,
  partList,
} from "./email_body.ts";
import { type EmailEntry, emailState, loadEmails } from "./account_view.ts";
import {
  boolArg,
  checkArgs,
  idList,
  intArg,
  type JmapMethod,
  objectArg,
  pick,
  propertyList,
  requireAccount,
  stringArg,
} from "./context.ts";
import {
  addresses,
  hasAttachment,
  headerDate,
  headerText,
  messageIds,
  preview,
  utcDate,
} from "./email_parse.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import {
  blobIdOf,
  emailIdOf,
  mailboxIdOf,
  parseEmailId,
  parseMailboxId,
  threadIdOf,
} from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { MAIL } from "./session.ts";

/** Properties known from the store's records alone. */
const META = ["id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"];
/** Properties that need the message parsed. */
const PARSED = [
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
];
/** Properties of the body (email_body.ts). */
const BODY = ["bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"];
const PROPERTIES = [...META, ...PARSED, ...BODY];
/** RFC 8621 §4.2: what Email/get returns when no properties are given. */
const DEFAULT_PROPERTIES = PROPERTIES.filter((p) => p !== "bodyStructure");

const SYSTEM_KEYWORDS: Record<string, string> = {
  "\\seen": "$seen",
  "\\flagged": "$flagged",
  "\\answered": "$answered",
  "\\draft": "$draft",
};

/** RFC 8621 §4.1.1 keywords of a set of IMAP flags (a prototype-less object). */
export function keywordsOf(flags: Iterable<string>): JsonObject {
  const out: JsonObject = Object.create(null);
  for (const f of flags) {
    const l = f.toLowerCase();
    if (SYSTEM_KEYWORDS[l]) out[SYSTEM_KEYWORDS[l]] = true;
    else if (!l.startsWith("\\")) out[l] = true;
  }
  return out;
}

function hasKeyword(e: EmailEntry, keyword: string): boolean {
  return Object.hasOwn(keywordsOf(e.flags), keyword.toLowerCase());
}

/** RFC 8620 §5.1 /get for Email. */
const get: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "ids",
      "properties",
      "bodyProperties",
      "fetchTextBodyValues",
      "fetchHTMLBodyValues",
      "fetchAllBodyValues",
      "maxBodyValueBytes",
    ]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? DEFAULT_PROPERTIES;
    const unknown = properties.find((p) => !PROPERTIES.includes(p));
    if (unknown !== undefined) {
      throw invalidArguments(`unsupported property ${unknown.slice(0, 100)}`);
    }
    const bodyProperties = propertyList(args, "bodyProperties") ?? DEFAULT_BODY_PROPERTIES;
    const unknownPart = bodyProperties.find((p) => !BODY_PROPERTIES.includes(p));
    if (unknownPart !== undefined) {
      throw invalidArguments(`unsupported body property ${unknownPart.slice(0, 100)}`);
    }
    const values = {
      text: boolArg(args, "fetchTextBodyValues", false),
      html: boolArg(args, "fetchHTMLBodyValues", false),
      all: boolArg(args, "fetchAllBodyValues", false),
      maxBytes: intArg(args, "maxBodyValueBytes", 0, 0),
    };
    const store = ctx.deps.store;
    const mailboxes = await store.listMailboxes(ctx.account.id);
    const emails = await loadEmails(store, mailboxes);
    const wanted = ids ?? [...emails.keys()].map(emailIdOf);
    if (wanted.length > ctx.limits.maxObjectsInGet) throw new MethodError("requestTooLarge");
    const parse = properties.some((p) => PARSED.includes(p) || BODY.includes(p));
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const blob = parseEmailId(id);
      const e = blob === null ? undefined : emails.get(blob);
      if (!e) {
        notFound.push(id);
        continue;
      }
      const obj: JsonObject = {
        id: emailIdOf(e.blobId),
        blobId: blobIdOf(e.blobId),
        threadId: threadIdOf(e.blobId),
        mailboxIds: Object.fromEntries(e.mailboxIds.map((m) => [mailboxIdOf(m), true])),
        keywords: keywordsOf(e.flags),
        size: e.size,
        receivedAt: utcDate(e.receivedAt),
      };
      if (parse) {
        const bytes = await store.readBlob(e.blobId);
        const root = parseMime(bytes);
        Object.assign(obj, parsedProperties(bytes, root));
        if (properties.some((p) => BODY.includes(p))) {
          Object.assign(obj, bodyParts(bytes, e.blobId, root, bodyProperties, values));
        }
      }
      list.push(pick(obj, properties));
    }
    return { accountId, state: emailState(mailboxes), list, notFound };
  },
};

/** RFC 8621 §4.1.4 body properties and §4.2 bodyValues. */
function bodyParts(
  bytes: Uint8Array,
  blob: number,
  root: MimePart,
  properties: readonly string[],
  values: { text: boolean; html: boolean; all: boolean; maxBytes: number },
): JsonObject {
  const lists = bodyLists(root);
  const bodyValues: JsonObject = Object.create(null);
  const add = (leaves: typeof lists.text) => {
    for (const l of leaves) {
      if (l.part.type !== "text") continue;
      bodyValues[l.path.join(".")] ??= bodyValue(bytes, l.part, values.maxBytes);
    }
  };
  if (values.text || values.all) add(lists.text);
  if (values.html || values.all) add(lists.html);
  if (values.all) add(lists.attachments);
  return {
    bodyStructure: bodyStructure(bytes, blob, root, properties),
    textBody: partList(bytes, blob, lists.text, properties),
    htmlBody: partList(bytes, blob, lists.html, properties),
    attachments: partList(bytes, blob, lists.attachments, properties),
    bodyValues,
  };
}

function parsedProperties(bytes: Uint8Array, root: MimePart): JsonObject {
  return {
    messageId: messageIds(root, "message-id"),
    inReplyTo: messageIds(root, "in-reply-to"),
    references: messageIds(root, "references"),
    sender: addresses(root, "sender"),
    from: addresses(root, "from"),
    to: addresses(root, "to"),
    cc: addresses(root, "cc"),
    bcc: addresses(root, "bcc"),
    replyTo: addresses(root, "reply-to"),
    subject: headerText(root, "subject"),
    sentAt: headerDate(root, "date"),
    hasAttachment: hasAttachment(root),
    preview: preview(bytes, root),
  };
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

/** Compiles a Filter (RFC 8620 §5.5: FilterOperator or FilterCondition). */
function compileFilter(f: unknown, depth = 0): Predicate {
  if (!isObject(f)) throw invalidArguments("a filter is an object");
  if (depth > 16) throw new MethodError("unsupportedFilter", "filter nested too deeply");
  if (Object.hasOwn(f, "operator")) {
    const { operator, conditions } = f;
    if (!Array.isArray(conditions)) throw invalidArguments("conditions must be a list");
    const parts = conditions.map((c) => compileFilter(c, depth + 1));
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
    const matches = filter ? compileFilter(filter) : () => true;
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

    const mailboxes = await ctx.deps.store.listMailboxes(ctx.account.id);
    const all = [...(await loadEmails(ctx.deps.store, mailboxes)).values()];
    const sorted = all.filter(matches).sort(compare);
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
      queryState: emailState(mailboxes),
      canCalculateChanges: false,
      position,
      ids,
    };
    if (calculateTotal) out.total = total;
    if (asked === null || asked > MAX_QUERY_LIMIT) out.limit = limit;
    return out;
  },
};

export const EMAIL_METHODS: Record<string, JmapMethod> = {
  "Email/get": get,
  "Email/query": query,
};
