/**
 * Comparators and match types: i;octet, i;ascii-casemap, i;ascii-numeric (RFC 4790,
 * RFC 5228 §2.7.3), :is :contains :matches (§2.7.1), :value and :count relations
 * (RFC 5231), :regex (draft-ietf-sieve-regex, through regex.ts's linear-time engine), and
 * the `:matches` wildcard matcher.
 *
 * Invariant: nothing from a script becomes a RegExp. The wildcard matcher splits the
 * pattern at "*" into segments and finds each segment once, left to right, at its
 * earliest place (earliest is always safe: it leaves the most room for the rest), so it
 * never backtracks. Segments without "?" (and :contains keys) are found in linear time;
 * a segment with "?" costs O(text × segment), charged to the run's matching budget.
 *
 * @module
 */

import { compileRegex, type Regex, RegexError, regexSearch, type RegexWork } from "./regex.ts";
import { containsText, findText } from "../../../lib/find_text.ts";

export type Comparator = "i;octet" | "i;ascii-casemap" | "i;ascii-numeric";
export type Relation = "gt" | "ge" | "lt" | "le" | "eq" | "ne";
export const RELATIONS: readonly string[] = ["gt", "ge", "lt", "le", "eq", "ne"];

export type MatchType =
  | { kind: "is" }
  | { kind: "contains" }
  | { kind: "matches" }
  | { kind: "regex" }
  | { kind: "value"; relation: Relation }
  | { kind: "count"; relation: Relation };

/** ASCII letters lower-cased, everything else (and every index) unchanged. */
export function asciiLower(s: string): string {
  let out = "";
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      if (!changed) {
        out = s.slice(0, i);
        changed = true;
      }
      out += String.fromCharCode(c + 32);
    } else if (changed) out += s[i];
  }
  return changed ? out : s;
}

function fold(s: string, cmp: Comparator): string {
  return cmp === "i;ascii-casemap" ? asciiLower(s) : s;
}

/** i;ascii-numeric: the leading digits as a number; none: positive infinity (RFC 4790 §9.1). */
export function numericValue(s: string): number {
  let i = 0;
  while (i < s.length && s[i] >= "0" && s[i] <= "9") i++;
  return i === 0 ? Infinity : Number(s.slice(0, i));
}

function ordering(a: string, b: string, cmp: Comparator): number {
  if (cmp === "i;ascii-numeric") {
    const x = numericValue(a), y = numericValue(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const x = fold(a, cmp), y = fold(b, cmp);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Whether `ord` (value compared to key) satisfies the relation. */
export function relationHolds(rel: Relation, ord: number): boolean {
  switch (rel) {
    case "gt":
      return ord > 0;
    case "ge":
      return ord >= 0;
    case "lt":
      return ord < 0;
    case "le":
      return ord <= 0;
    case "eq":
      return ord === 0;
    case "ne":
      return ord !== 0;
  }
}

/**
 * Matches one value against one key. Returns null for no match, else the match
 * variables (RFC 5229 §3.2: [whole, wildcard 1, ...]; only :matches fills wildcards).
 */
export function matchOne(
  value: string,
  key: string,
  type: MatchType,
  cmp: Comparator,
  work?: RegexWork,
): string[] | null {
  switch (type.kind) {
    case "is":
      return ordering(value, key, cmp) === 0 ? [value] : null;
    case "contains":
      if (cmp === "i;ascii-numeric") return null; // RFC 4790 §9.1: no substring operation
      return containsText(fold(value, cmp), fold(key, cmp)) ? [value] : null;
    case "matches":
      if (cmp === "i;ascii-numeric") return null;
      return wildcardMatch(value, key, cmp === "i;ascii-casemap", work);
    case "regex": {
      if (cmp === "i;ascii-numeric") return null;
      const re = cachedRegex(key, cmp === "i;ascii-casemap");
      return re instanceof RegexError ? null : regexSearch(re, value, work);
    }
    case "value":
      return relationHolds(type.relation, ordering(value, key, cmp)) ? [value] : null;
    case "count":
      return null; // counted over the whole list by the caller
  }
}

const REGEX_CACHE_SIZE = 256;
const regexCache = new Map<string, Regex | RegexError>();

/** A compiled :regex key (or its error), cached by pattern and case mapping. */
export function cachedRegex(pattern: string, casemap: boolean): Regex | RegexError {
  const k = (casemap ? "i" : "o") + pattern;
  let re = regexCache.get(k);
  if (!re) {
    try {
      re = compileRegex(pattern, casemap);
    } catch (e) {
      if (!(e instanceof RegexError)) throw e;
      re = e;
    }
    if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
    regexCache.set(k, re);
  }
  return re;
}

/** One piece of a parsed pattern: literal text (with "?" positions) between "*"s. */
interface Segment {
  /** The characters; at positions in `any` a "?" stands (matches any one character). */
  chars: string;
  any: boolean[];
  hasAny: boolean;
}

/** Splits a :matches pattern at unescaped "*"; "\\" quotes the next character. */
function segments(pattern: string, casemap: boolean): Segment[] {
  const out: Segment[] = [];
  let chars = "";
  let any: boolean[] = [];
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i];
    if (c === "*") {
      out.push({ chars, any, hasAny: any.includes(true) });
      chars = "";
      any = [];
      continue;
    }
    let wild = false;
    if (c === "\\" && i + 1 < pattern.length) c = pattern[++i];
    else if (c === "?") wild = true;
    chars += casemap ? asciiLower(c) : c;
    any.push(wild);
  }
  out.push({ chars, any, hasAny: any.includes(true) });
  return out;
}

function segmentAt(text: string, at: number, seg: Segment): boolean {
  if (!seg.hasAny) return text.startsWith(seg.chars, at);
  for (let k = 0; k < seg.chars.length; k++) {
    if (!seg.any[k] && text[at + k] !== seg.chars[k]) return false;
  }
  return true;
}

/**
 * Earliest index >= from where `seg` matches and ends by `limit`, or -1. Without "?" a
 * linear search (lib/find_text.ts: the native one is O(text × segment) on periodic text);
 * with "?" each place tried costs the segment's length, charged to `work` (the run's
 * matching budget, shared with :regex): "*a?a?…b*" over a long header took minutes.
 */
function find(text: string, from: number, limit: number, seg: Segment, work?: RegexWork): number {
  const last = limit - seg.chars.length;
  if (!seg.hasAny) {
    const i = findText(text, seg.chars, from);
    return i >= 0 && i <= last ? i : -1;
  }
  for (let i = from; i <= last; i++) {
    if (work) {
      work.steps += seg.chars.length;
      if (work.limit !== undefined && work.steps > work.limit) {
        throw new RegexError("too much :matches work");
      }
    }
    if (segmentAt(text, i, seg)) return i;
  }
  return -1;
}

/**
 * The `:matches` wildcard match ("*" any run, "?" one character, "\\" quotes). Returns the
 * match variables ([whole, one string per wildcard in order]) or null. Earlier "*"s take
 * as little as they can, as RFC 5229 §3.2's examples show.
 */
export function wildcardMatch(
  value: string,
  pattern: string,
  casemap: boolean,
  work?: RegexWork,
): string[] | null {
  const text = casemap ? asciiLower(value) : value;
  const segs = segments(pattern, casemap);
  const n = text.length;
  const wild: string[] = [];
  const questions = (seg: Segment, at: number) => {
    for (let k = 0; k < seg.any.length; k++) if (seg.any[k]) wild.push(value[at + k]);
  };
  const first = segs[0];
  if (segs.length === 1) {
    if (n !== first.chars.length || !segmentAt(text, 0, first)) return null;
    questions(first, 0);
    return [value, ...wild];
  }
  const lastSeg = segs[segs.length - 1];
  const tailAt = n - lastSeg.chars.length;
  if (first.chars.length > tailAt) return null;
  if (!segmentAt(text, 0, first) || !segmentAt(text, tailAt, lastSeg)) return null;
  questions(first, 0);
  let pos = first.chars.length;
  for (let s = 1; s < segs.length - 1; s++) {
    const seg = segs[s];
    const at = find(text, pos, tailAt, seg, work);
    if (at < 0) return null;
    wild.push(value.slice(pos, at)); // the "*" before this segment
    questions(seg, at);
    pos = at + seg.chars.length;
  }
  wild.push(value.slice(pos, tailAt));
  questions(lastSeg, tailAt);
  return [value, ...wild];
}

/**
 * Tests values against keys: true when any value matches any key (for :count, when the
 * number of values stands in the relation to a key). Returns the match variables of the
 * first match, or null.
 */
export function matchAny(
  values: readonly string[],
  keys: readonly string[],
  type: MatchType,
  cmp: Comparator,
  work?: RegexWork,
): string[] | null {
  if (type.kind === "count") {
    const count = String(values.length);
    for (const k of keys) {
      if (relationHolds(type.relation, ordering(count, k, cmp))) return [count];
    }
    return null;
  }
  for (const v of values) {
    for (const k of keys) {
      const m = matchOne(v, k, type, cmp, work);
      if (m) return m;
    }
  }
  return null;
}
