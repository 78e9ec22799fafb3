/**
 * Email/query filters (RFC 8621 §4.4.1; RFC 8620 §5.5 FilterOperator) compiled into
 * predicates over the account's Emails. Nothing from the client becomes a RegExp.
 *
 * A compiled filter says what it needs beyond the store's records (`QueryNeeds`): text
 * conditions (resolved by email_text.ts before the predicate runs), the parsed message
 * (hasAttachment, header) and the Email's thread (the *InThreadHaveKeyword conditions).
 * Filters are bounded: at most `MAX_DEPTH` levels and `MAX_NODES` conditions in all.
 *
 * @module
 */
import { decodeEncodedWords, headerValues } from "../../../mime/mod.ts";
import { containsText } from "../../../lib/find_text.ts";
import type { EmailEntry } from "./account_view.ts";
import { hasAttachment } from "./email_parse.ts";
import { TEXT_CONDITIONS, type TextCondition } from "./email_text.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { parseMailboxId } from "./ids.ts";
import { isObject } from "./json.ts";
import { keywordsOf } from "./keywords.ts";
import type { MessageInfo } from "./email_info.ts";

const MAX_DEPTH = 16;
const MAX_NODES = 256;

/** What evaluating a filter or sort needs, filled in while compiling. */
export interface QueryNeeds {
  texts: TextCondition[];
  /** The parsed message of each Email (`QueryData.info`). */
  parse: boolean;
  /** Every Email's thread (`QueryData.thread`). */
  threads: boolean;
  nodes: number;
}

/** What predicates and comparators read besides the Email itself. */
export interface QueryData {
  info(e: EmailEntry): MessageInfo;
  /** The Emails of e's thread (e included). */
  thread(e: EmailEntry): readonly EmailEntry[];
}

export type Predicate = (e: EmailEntry, d: QueryData) => boolean;

export function newNeeds(): QueryNeeds {
  return { texts: [], parse: false, threads: false, nodes: 0 };
}

export function hasKeyword(e: EmailEntry, keyword: string): boolean {
  return Object.hasOwn(keywordsOf(e.flags), keyword.toLowerCase());
}

/** RFC 8621 §4.4.1 conditions other than the text ones (email_text.ts). */
const CONDITIONS = new Set([
  "inMailbox",
  "inMailboxOtherThan",
  "before",
  "after",
  "minSize",
  "maxSize",
  "allInThreadHaveKeyword",
  "someInThreadHaveKeyword",
  "noneInThreadHaveKeyword",
  "hasKeyword",
  "notKeyword",
  "hasAttachment",
  "header",
]);

/** Compiles a Filter: a FilterOperator or a FilterCondition (RFC 8620 §5.5). */
export function compileFilter(f: unknown, needs: QueryNeeds, depth = 0): Predicate {
  if (!isObject(f)) throw invalidArguments("a filter is an object");
  if (depth > MAX_DEPTH) throw new MethodError("unsupportedFilter", "filter nested too deeply");
  if (++needs.nodes > MAX_NODES) throw new MethodError("unsupportedFilter", "filter too large");
  if (Object.hasOwn(f, "operator")) {
    const { operator, conditions } = f;
    for (const k of Object.keys(f)) {
      if (k !== "operator" && k !== "conditions") {
        throw invalidArguments(`unknown FilterOperator property ${k.slice(0, 100)}`);
      }
    }
    if (!Array.isArray(conditions)) throw invalidArguments("conditions must be a list");
    const parts = conditions.map((c) => compileFilter(c, needs, depth + 1));
    switch (operator) {
      case "AND":
        return (e, d) => parts.every((p) => p(e, d));
      case "OR":
        return (e, d) => parts.some((p) => p(e, d));
      case "NOT":
        return (e, d) => !parts.some((p) => p(e, d));
      default:
        throw invalidArguments("operator must be AND, OR or NOT");
    }
  }
  const preds: Predicate[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (Object.hasOwn(TEXT_CONDITIONS, k)) {
      if (typeof v !== "string") throw invalidArguments(`${k} must be a string`);
      const c: TextCondition = { kind: k, needle: v.toLowerCase(), matches: new Set() };
      needs.texts.push(c);
      preds.push((e) => c.matches.has(e.blobId));
      continue;
    }
    if (!CONDITIONS.has(k)) {
      throw new MethodError("unsupportedFilter", `unsupported condition ${k.slice(0, 100)}`);
    }
    preds.push(condition(k, v, needs));
  }
  return (e, d) => preds.every((p) => p(e, d));
}

function condition(k: string, v: unknown, needs: QueryNeeds): Predicate {
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
    if (typeof v !== "string" || v === "" || v.length > 255) {
      throw invalidArguments(`${k} must be a keyword`);
    }
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
    case "notKeyword": {
      const kw = keyword();
      return (e) => !hasKeyword(e, kw);
    }
    case "allInThreadHaveKeyword": {
      const kw = keyword();
      needs.threads = true;
      return (e, d) => d.thread(e).every((x) => hasKeyword(x, kw));
    }
    case "someInThreadHaveKeyword": {
      const kw = keyword();
      needs.threads = true;
      return (e, d) => d.thread(e).some((x) => hasKeyword(x, kw));
    }
    case "noneInThreadHaveKeyword": {
      const kw = keyword();
      needs.threads = true;
      return (e, d) => !d.thread(e).some((x) => hasKeyword(x, kw));
    }
    case "hasAttachment": {
      if (typeof v !== "boolean") throw invalidArguments("hasAttachment must be a boolean");
      needs.parse = true;
      return (e, d) => hasAttachment(d.info(e).root) === v;
    }
    default:
      return headerCondition(v, needs);
  }
}

/**
 * RFC 8621 §4.4.1 header: [name] matches when the field exists, [name, value] when a field
 * of that name contains value (case-insensitive substring of the decoded value).
 */
function headerCondition(v: unknown, needs: QueryNeeds): Predicate {
  if (
    !Array.isArray(v) || v.length < 1 || v.length > 2 || !v.every((x) => typeof x === "string") ||
    !/^[\x21-\x39\x3b-\x7e]{1,100}$/.test(v[0])
  ) {
    throw invalidArguments("header must be [name] or [name, value]");
  }
  const name = (v[0] as string).toLowerCase();
  const value = v.length === 2 ? (v[1] as string).toLowerCase() : null;
  needs.parse = true;
  return (e, d) => {
    const values = headerValues(d.info(e).root, name);
    if (value === null) return values.length > 0;
    return values.some((x) => containsText(decodeEncodedWords(x).toLowerCase(), value));
  };
}
