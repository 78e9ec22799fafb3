/**
 * Email/query sorts (RFC 8621 §4.4.2): receivedAt, size, from, to, subject, sentAt,
 * hasKeyword, allInThreadHaveKeyword, someInThreadHaveKeyword; each ascending or not, with
 * the collations i;unicode-casemap (default), i;ascii-casemap or i;octet (RFC 4790).
 * Ties fall to the next comparator, then to the blob id in the first comparator's
 * direction (newest storage first by default), so every order is total and stable.
 *
 * @module
 */
import type { EmailEntry } from "./account_view.ts";
import { hasKeyword, type QueryData, type QueryNeeds } from "./email_filter.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject } from "./json.ts";

const invalidSort = (why: string) => new MethodError("unsupportedSort", why);

export type Compare = (a: EmailEntry, b: EmailEntry, d: QueryData) => number;

export const COLLATIONS = ["i;unicode-casemap", "i;ascii-casemap", "i;octet"];

/** One comparator as given, once checked. */
export interface SortKey {
  property: string;
  asc: boolean;
  keyword?: string;
  collation: string;
}

/** Checks the sort argument; absent: receivedAt, newest first. */
export function parseSort(sort: unknown): SortKey[] {
  if (sort === undefined || sort === null) {
    return [{ property: "receivedAt", asc: false, collation: COLLATIONS[0] }];
  }
  if (!Array.isArray(sort)) throw invalidArguments("sort must be a list");
  if (sort.length > 16) throw invalidSort("too many comparators");
  return sort.map((c): SortKey => {
    if (!isObject(c) || typeof c.property !== "string") {
      throw invalidArguments("each sort is a Comparator object");
    }
    for (const k of Object.keys(c)) {
      if (!["property", "isAscending", "collation", "keyword"].includes(k)) {
        throw invalidArguments(`unknown comparator property ${k.slice(0, 100)}`);
      }
    }
    if (c.isAscending !== undefined && typeof c.isAscending !== "boolean") {
      throw invalidArguments("isAscending must be a boolean");
    }
    const collation = c.collation ?? COLLATIONS[0];
    if (typeof collation !== "string" || !COLLATIONS.includes(collation)) {
      throw invalidSort(`unsupported collation ${String(collation).slice(0, 100)}`);
    }
    const key: SortKey = { property: c.property, asc: c.isAscending !== false, collation };
    if (KEYWORD_SORTS.includes(c.property)) {
      if (typeof c.keyword !== "string" || c.keyword === "" || c.keyword.length > 255) {
        throw invalidArguments(`sorting by ${c.property} needs a keyword`);
      }
      key.keyword = c.keyword;
    } else if (!PLAIN_SORTS.includes(c.property)) {
      throw invalidSort(`cannot sort by ${c.property.slice(0, 100)}`);
    }
    return key;
  });
}

const PLAIN_SORTS = ["receivedAt", "size", "from", "to", "subject", "sentAt"];
const KEYWORD_SORTS = ["hasKeyword", "allInThreadHaveKeyword", "someInThreadHaveKeyword"];

/**
 * Compares two sort keys. The keys are case folded when read (email_info.ts), which is
 * i;unicode-casemap; i;ascii-casemap orders such keys the same way, and i;octet is
 * accepted but compares the folded keys too (a documented simplification).
 */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compiles the checked sort into one comparator; notes what it needs. */
export function compileSort(keys: SortKey[], needs: QueryNeeds): Compare {
  const parts = keys.map((k): Compare => {
    const kw = k.keyword ?? "";
    switch (k.property) {
      case "receivedAt":
        return (a, b) => a.receivedAt - b.receivedAt;
      case "size":
        return (a, b) => a.size - b.size;
      case "from":
      case "to":
      case "subject": {
        needs.parse = true;
        const p = k.property;
        return (a, b, d) => compareText(d.info(a)[p], d.info(b)[p]);
      }
      case "sentAt":
        needs.parse = true;
        return (a, b, d) => (d.info(a).sentAt ?? a.receivedAt) - (d.info(b).sentAt ?? b.receivedAt);
      case "hasKeyword":
        return (a, b) => Number(hasKeyword(a, kw)) - Number(hasKeyword(b, kw));
      case "allInThreadHaveKeyword":
        needs.threads = true;
        return (a, b, d) =>
          Number(d.thread(a).every((x) => hasKeyword(x, kw))) -
          Number(d.thread(b).every((x) => hasKeyword(x, kw)));
      default:
        needs.threads = true;
        return (a, b, d) =>
          Number(d.thread(a).some((x) => hasKeyword(x, kw))) -
          Number(d.thread(b).some((x) => hasKeyword(x, kw)));
    }
  });
  const tieAsc = keys[0]?.asc ?? false;
  return (a, b, d) => {
    for (let i = 0; i < parts.length; i++) {
      const r = parts[i](a, b, d);
      if (r !== 0) return keys[i].asc ? r : -r;
    }
    return tieAsc ? a.blobId - b.blobId : b.blobId - a.blobId;
  };
}
