/**
 * SORT (RFC 5256 §3, DISPLAYFROM/DISPLAYTO RFC 5957): the sort criteria, the keys each
 * message is sorted by, base subject extraction (RFC 5256 §2.1) and the sent date (§2.2).
 * Everything here is pure: the command hands in parsed headers.
 *
 * Collation is i;ascii-casemap (RFC 5256 §3: the default), applied to the decoded strings.
 *
 * @module
 */
import { dateFromParts } from "../../mime/date.ts";
import {
  decodeEncodedWords,
  headerValue,
  type MimePart,
  parseAddressList,
} from "../../mime/mod.ts";
import { ParseError } from "./errors.ts";
import type { ArgReader } from "./parser.ts";

/** RFC 5256 §3 sort-key (plus RFC 5957 DISPLAYFROM and DISPLAYTO). */
export type SortKey =
  | "ARRIVAL"
  | "CC"
  | "DATE"
  | "FROM"
  | "SIZE"
  | "SUBJECT"
  | "TO"
  | "DISPLAYFROM"
  | "DISPLAYTO";

/** One sort criterion. */
export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

const KEYS = new Set<string>([
  "ARRIVAL",
  "CC",
  "DATE",
  "FROM",
  "SIZE",
  "SUBJECT",
  "TO",
  "DISPLAYFROM",
  "DISPLAYTO",
]);

/** RFC 5256 §5: sort-criteria = "(" sort-criterion *(SP sort-criterion) ")". */
export function parseSortCriteria(r: ArgReader): SortCriterion[] {
  return r.list(() => {
    let word = r.atom("a sort key").toUpperCase();
    let reverse = false;
    if (word === "REVERSE") {
      reverse = true;
      r.space();
      word = r.atom("a sort key").toUpperCase();
    }
    if (!KEYS.has(word)) throw new ParseError(`Unknown sort key ${word}`);
    return { key: word as SortKey, reverse };
  }, false);
}

/** What sorting and threading know about one message. */
export interface SortItem {
  seq: number;
  uid: number;
  size: number;
  internalDate: number;
  /** RFC 5256 §2.2: sent date in ms, INTERNALDATE when there is no valid Date: header. */
  sentDate: number;
  /** RFC 5256 §2.1 base subject, in the ascii-casemap collation form. */
  baseSubject: string;
  /** True when the subject had a reply/forward marker (§2.1, used by THREAD §4 (5)). */
  isReply: boolean;
  from: string;
  to: string;
  cc: string;
  displayFrom: string;
  displayTo: string;
  /** THREAD=REFERENCES inputs: Message-ID, References (or In-Reply-To) ids. */
  messageId: string | null;
  references: string[];
}

/** Builds a SortItem from a message's parsed header (mime) and its metadata. */
export function sortItem(
  root: MimePart,
  meta: { seq: number; uid: number; size: number; internalDate: number },
): SortItem {
  const subject = baseSubject(decodeEncodedWords(headerValue(root, "subject") ?? ""));
  const date = headerValue(root, "date");
  const sent = date === null ? null : parseSentDate(date);
  const from = firstAddress(headerValue(root, "from"));
  const to = firstAddress(headerValue(root, "to"));
  const cc = firstAddress(headerValue(root, "cc"));
  const messageId = msgIds(headerValue(root, "message-id") ?? "")[0] ?? null;
  let references = msgIds(headerValue(root, "references") ?? "");
  if (references.length === 0) {
    // RFC 5256 §4 (1): without References, the first id of In-Reply-To.
    references = msgIds(headerValue(root, "in-reply-to") ?? "").slice(0, 1);
  }
  return {
    ...meta,
    sentDate: sent ?? meta.internalDate,
    baseSubject: casemap(subject.text),
    isReply: subject.isReply,
    from: casemap(from.mailbox),
    to: casemap(to.mailbox),
    cc: casemap(cc.mailbox),
    displayFrom: casemap(from.display),
    displayTo: casemap(to.display),
    messageId,
    references,
  };
}

/**
 * The first address of an address header: its addr-mailbox (local part, RFC 5256 §3) and
 * its RFC 5957 display form (decoded display name, else the addr-spec).
 */
function firstAddress(value: string | null): { mailbox: string; display: string } {
  if (value === null) return { mailbox: "", display: "" };
  const a = parseAddressList(value)[0];
  if (!a || a.mailbox === null) return { mailbox: "", display: "" };
  // A group comes first: its name stands for the address in both forms (as in Dovecot).
  if (a.host === null) return { mailbox: a.mailbox, display: a.mailbox };
  const name = a.name ? decodeEncodedWords(a.name).trim() : "";
  // An address without a domain ("To: d") displays as written.
  const spec = a.host === "MISSING_DOMAIN" ? a.mailbox : `${a.mailbox}@${a.host}`;
  return { mailbox: a.mailbox, display: name || spec };
}

/** Message ids `<...>` in a header value, in order. */
export function msgIds(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]+)>/g)) {
    if (out.length >= 1000) break; // bounded work for absurd References headers
    out.push(m[1]);
  }
  return out;
}

/** i;ascii-casemap (RFC 4790 §9.2): ASCII letters compared without case. */
export function casemap(s: string): string {
  return s.replace(/[a-z]+/g, (x) => x.toUpperCase());
}

/** Compares two strings by code point order (after casemap). */
function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The comparator for a list of criteria; ties keep mailbox (sequence) order (§3). */
export function comparator(
  criteria: readonly SortCriterion[],
): (a: SortItem, b: SortItem) => number {
  return (a, b) => {
    for (const c of criteria) {
      let d = 0;
      switch (c.key) {
        case "ARRIVAL":
          d = a.internalDate - b.internalDate;
          break;
        case "DATE":
          d = a.sentDate - b.sentDate;
          break;
        case "SIZE":
          d = a.size - b.size;
          break;
        case "SUBJECT":
          d = cmpStr(a.baseSubject, b.baseSubject);
          break;
        case "FROM":
          d = cmpStr(a.from, b.from);
          break;
        case "TO":
          d = cmpStr(a.to, b.to);
          break;
        case "CC":
          d = cmpStr(a.cc, b.cc);
          break;
        case "DISPLAYFROM":
          d = cmpStr(a.displayFrom, b.displayFrom);
          break;
        case "DISPLAYTO":
          d = cmpStr(a.displayTo, b.displayTo);
          break;
      }
      if (d !== 0) return c.reverse ? -d : d;
    }
    return a.seq - b.seq;
  };
}

/** Sorts items by the criteria (RFC 5256 §3). */
export function sortItems(
  items: readonly SortItem[],
  criteria: readonly SortCriterion[],
): SortItem[] {
  return [...items].sort(comparator(criteria));
}

// --- RFC 5256 §2.1 base subject ---

/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":", matched at `lastIndex`. */
const REFWD = /(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/iy;

/** End of the subj-blob (`"[" *BLOBCHAR "]" *WSP`) at `i` in `s[.., end)`, or -1. */
function blobEnd(s: string, i: number, end: number): number {
  if (s[i] !== "[") return -1;
  let k = i + 1;
  while (k < end && s[k] !== "[" && s[k] !== "]") k++;
  if (k >= end || s[k] !== "]") return -1;
  k++;
  while (k < end && (s[k] === " " || s[k] === "\t")) k++;
  return k;
}

/** Whether `s[i, end)` starts with `word` (ASCII, any case). */
function startsWithAt(s: string, i: number, end: number, word: string): boolean {
  return end - i >= word.length && s.slice(i, i + word.length).toLowerCase() === word;
}

/**
 * RFC 5256 §2.1: the base subject of a (decoded) subject, and whether it was marked as a
 * reply or forward (§2.1 steps 2-6 removed something that says so).
 *
 * Works on two indexes into the string, never re-slicing or re-matching the rest: hostile
 * subjects of 100 KB ("[a] " or " (fwd)" repeated) took seconds with a rescan per step.
 */
export function baseSubject(decoded: string): { text: string; isReply: boolean } {
  // (1) tabs and line breaks are white space; runs of it become one space.
  const s = decoded.replace(/[\t\r\n ]+/g, " ");
  let i = 0;
  let end = s.length;
  let isReply = false;
  for (let guard = 0; guard < 1000; guard++) {
    // (2) remove subj-trailer: "(fwd)" and white space at the end, repeatedly.
    for (;;) {
      while (end > i && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
      if (end - 5 < i || s.slice(end - 5, end).toLowerCase() !== "(fwd)") break;
      end -= 5;
      isReply = true;
    }
    // (3)-(5): remove subj-leader and a leading subj-blob until nothing changes.
    for (;;) {
      // (3) subj-leader = (*subj-blob subj-refwd) / WSP
      let run = i; // end of the leading blobs
      for (;;) {
        if (i < end && (s[i] === " " || s[i] === "\t")) {
          i++;
          continue;
        }
        run = i;
        for (let k = blobEnd(s, run, end); k >= 0; k = blobEnd(s, run, end)) run = k;
        REFWD.lastIndex = run;
        const m = REFWD.exec(s);
        if (m && REFWD.lastIndex <= end) {
          i = REFWD.lastIndex;
          isReply = true;
          continue;
        }
        break;
      }
      // (4) a leading subj-blob goes unless the rest would be empty. Back at (3) the same
      // blobs lead to the same place with no refwd after them, so (4) takes them all at
      // once: each one that something follows.
      let next = i;
      for (let k = blobEnd(s, next, end); k >= 0 && k < end; k = blobEnd(s, next, end)) next = k;
      if (next === i) break;
      i = next;
      // A refwd right after the blobs was ruled out at `run`; (3) has nothing left to do.
      if (i === run) break;
    }
    // (6) "[fwd:" ... "]" wraps a forwarded subject: unwrap, back to (2).
    if (startsWithAt(s, i, end, "[fwd:") && end - i >= 6 && s[end - 1] === "]") {
      i += 5;
      end -= 1;
      isReply = true;
      continue;
    }
    break;
  }
  return { text: s.slice(i, end), isReply };
}

// --- RFC 5256 §2.2 sent date ---

/**
 * An RFC 5322 §3.3 date-time (with the obsolete forms of §4.3) as epoch ms, or null when it
 * cannot be parsed. A missing or unknown zone counts as UTC (RFC 5322 §4.3: "-0000").
 */
export function parseSentDate(value: string): number | null {
  const v = value.replace(/\([^()]*\)/g, " ").replace(/\s+/g, " ").trim();
  const m =
    /^(?:[A-Za-z]{3},? ?)?(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{2,4}) (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ([+-]\d{4}|[A-Za-z]{1,5}))?/
      .exec(v);
  if (!m) return null;
  const d = dateFromParts({
    day: m[1],
    month: m[2],
    year: m[3],
    hour: m[4],
    minute: m[5],
    second: m[6],
    zone: m[7],
  });
  return d ? d.ms : null;
}
