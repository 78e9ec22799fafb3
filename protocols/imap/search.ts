/**
 * SEARCH criteria (RFC 9051 §6.4.4, RFC 3501 §6.4.4 for NEW/OLD/RECENT): parsing into a
 * tree, and evaluating the tree against one message. No I/O: message content is handed in
 * already read, and only when `needsContent()` says a key looks at it.
 *
 * String keys match case-insensitively as substrings (RFC 9051 §6.4.4), against header
 * values with RFC 2047 encoded words decoded and against decoded text body parts.
 *
 * @module
 */
import type { MimePart } from "../../mime/mod.ts";
import type { TextQuery } from "../../storage/mod.ts";
import { bodyText, fieldTexts, headerText } from "../../mime/search_text.ts";
import { ParseError } from "./errors.ts";
import type { ArgReader, SequenceSet } from "./parser.ts";
import { IntervalSet } from "./seqset.ts";
import type { Pacer } from "../../lib/yield.ts";
// Client needles over mailed text: linear, whatever either holds.
import { containsText } from "../../lib/find_text.ts";

/** A parsed search key. */
export type SearchKey =
  | { op: "all" }
  | { op: "and"; keys: SearchKey[] }
  | { op: "or"; a: SearchKey; b: SearchKey }
  | { op: "not"; key: SearchKey }
  | { op: "flag"; flag: string; set: boolean }
  | { op: "seq"; set: SequenceSet }
  | { op: "uid"; set: SequenceSet }
  | { op: "header"; field: string; value: string }
  | { op: "body"; value: string }
  | { op: "text"; value: string }
  | { op: "larger"; size: number }
  | { op: "smaller"; size: number }
  | { op: "date"; sent: boolean; cmp: "before" | "on" | "since"; day: number }
  | { op: "recent" }
  /** RFC 7162 §3.1.5: messages with a modseq of at least `modseq`. */
  | { op: "modseq"; modseq: number }
  | { op: "new" }
  | { op: "old" };

/** RFC 9051 §6.4.4 / RFC 4731 §3.1: RETURN options. */
export type ReturnOption = "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE";

/** A parsed SEARCH command. */
export interface SearchProgram {
  /** null when no RETURN was given (IMAP4rev1 `* SEARCH` reply unless IMAP4rev2). */
  returns: Set<ReturnOption> | null;
  charset: string | null;
  key: SearchKey;
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

const HEADER_KEYS: Record<string, string> = {
  BCC: "bcc",
  CC: "cc",
  FROM: "from",
  SUBJECT: "subject",
  TO: "to",
};

const DATE_KEYS: Record<string, [boolean, "before" | "on" | "since"]> = {
  BEFORE: [false, "before"],
  ON: [false, "on"],
  SINCE: [false, "since"],
  SENTBEFORE: [true, "before"],
  SENTON: [true, "on"],
  SENTSINCE: [true, "since"],
};

const RETURN_OPTIONS = new Set<string>(["MIN", "MAX", "ALL", "COUNT", "SAVE"]);

/** Nesting limit for parentheses, NOT and OR (bounded recursion). */
const MAX_DEPTH = 64;

/**
 * Most keys one SEARCH may hold, and most string keys (each a pass over a message's text).
 * RFC 9051 sets no number; real clients send a few dozen. Beyond these the command is
 * refused with NO [LIMIT] (RFC 5530 §3) — issue 13: 300 `OR BODY x ALL` froze the server.
 */
export const MAX_SEARCH_KEYS = 1_000;
export const MAX_SEARCH_TEXT_KEYS = 100;

/** How many keys a tree holds, and how many of them match strings. */
export function countKeys(key: SearchKey): { keys: number; text: number } {
  let keys = 0;
  let text = 0;
  const walk = (k: SearchKey) => {
    keys++;
    if (k.op === "and") k.keys.forEach(walk);
    else if (k.op === "or") {
      walk(k.a);
      walk(k.b);
    } else if (k.op === "not") walk(k.key);
    else if (k.op === "header" || k.op === "body" || k.op === "text") text++;
  };
  walk(key);
  return { keys, text };
}

/** Parses `[RETURN (...)] [CHARSET x] key *(SP key)` after "SEARCH". */
export function parseSearch(r: ArgReader): SearchProgram {
  r.space();
  let returns: Set<ReturnOption> | null = null;
  let charset: string | null = null;
  let word = peekWordUpper(r);
  if (word === "RETURN") {
    r.atom();
    r.space();
    returns = new Set();
    for (const o of r.list(() => r.atom("a return option").toUpperCase())) {
      if (!RETURN_OPTIONS.has(o)) throw new ParseError(`Unknown SEARCH return option ${o}`);
      returns.add(o as ReturnOption);
    }
    // RFC 4731 §3.1: RETURN () means RETURN (ALL).
    if (returns.size === 0) returns.add("ALL");
    r.space();
    word = peekWordUpper(r);
  }
  if (word === "CHARSET") {
    r.atom();
    r.space();
    charset = r.astring("a charset");
    r.space();
  }
  const keys: SearchKey[] = [parseKey(r, 0)];
  while (r.tryChar(" ")) keys.push(parseKey(r, 0));
  return { returns, charset, key: keys.length === 1 ? keys[0] : { op: "and", keys } };
}

/** "RETURN" or "CHARSET" when that keyword comes next (not consumed), else "". */
function peekWordUpper(r: ArgReader): string {
  for (const w of ["RETURN", "CHARSET"]) if (peekIs(r, w)) return w;
  return "";
}

function peekIs(r: ArgReader, word: string): boolean {
  return r.peekText(word.length + 1).toUpperCase() === word + " ";
}

function parseKey(r: ArgReader, depth: number): SearchKey {
  if (depth > MAX_DEPTH) throw new ParseError("Search criteria nested too deeply");
  const p = r.peek();
  if (p === "(") {
    const keys = r.list(() => parseKey(r, depth + 1), false);
    return keys.length === 1 ? keys[0] : { op: "and", keys };
  }
  if (p === "*" || p === "$" || /[0-9]/.test(p)) return { op: "seq", set: r.sequenceSet() };
  const word = r.atom("a search key").toUpperCase();
  const flag = FLAG_KEYS[word];
  if (flag) return { op: "flag", flag: flag[0], set: flag[1] };
  const header = HEADER_KEYS[word];
  if (header) {
    r.space();
    return { op: "header", field: header, value: r.astring() };
  }
  const date = DATE_KEYS[word];
  if (date) {
    r.space();
    return { op: "date", sent: date[0], cmp: date[1], day: r.date() };
  }
  switch (word) {
    case "ALL":
      return { op: "all" };
    case "NEW":
      return { op: "new" };
    case "OLD":
      return { op: "old" };
    case "RECENT":
      return { op: "recent" };
    case "KEYWORD":
    case "UNKEYWORD":
      r.space();
      return { op: "flag", flag: r.atom("a keyword"), set: word === "KEYWORD" };
    case "BODY":
      r.space();
      return { op: "body", value: r.astring() };
    case "TEXT":
      r.space();
      return { op: "text", value: r.astring() };
    case "HEADER": {
      r.space();
      const field = r.astring("a header field name").toLowerCase();
      r.space();
      return { op: "header", field, value: r.astring() };
    }
    case "LARGER":
      r.space();
      return { op: "larger", size: r.number64() };
    case "SMALLER":
      r.space();
      return { op: "smaller", size: r.number64() };
    case "UID":
      r.space();
      return { op: "uid", set: r.sequenceSet() };
    case "MODSEQ": {
      // RFC 7162 §3.1.5: MODSEQ [entry-name SP entry-type-req] mod-sequence-valzer. We keep
      // one modseq per message, so the metadata entry is checked and otherwise ignored.
      r.space();
      if (r.peek() === '"') {
        r.string();
        r.space();
        const type = r.atom("an entry type").toLowerCase();
        if (type !== "priv" && type !== "shared" && type !== "all") {
          throw new ParseError(`Invalid MODSEQ entry type ${type}`);
        }
        r.space();
      }
      return { op: "modseq", modseq: r.number64("a mod-sequence") };
    }
    case "NOT":
      r.space();
      return { op: "not", key: parseKey(r, depth + 1) };
    case "OR": {
      r.space();
      const a = parseKey(r, depth + 1);
      r.space();
      return { op: "or", a, b: parseKey(r, depth + 1) };
    }
  }
  throw new ParseError(`Unknown search key ${word}`);
}

/** Whether the criteria use MODSEQ (RFC 7162 §3.1.5: the reply then carries MODSEQ). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.op) {
    case "modseq":
      return true;
    case "and":
      return key.keys.some(usesModseq);
    case "or":
      return usesModseq(key.a) || usesModseq(key.b);
    case "not":
      return usesModseq(key.key);
    default:
      return false;
  }
}

/**
 * The text conditions every match must meet (the string keys among the top-level AND), as
 * full-text queries: a store's index narrows the messages to read to those that may meet
 * them all. Keys under OR or NOT are left to the evaluator.
 */
export function indexQueries(key: SearchKey): TextQuery[] {
  const out: TextQuery[] = [];
  const walk = (k: SearchKey) => {
    if (k.op === "and") k.keys.forEach(walk);
    else if (k.op === "text" || k.op === "body") out.push({ part: k.op, value: k.value });
    // RFC 9051 §6.4.4: HEADER field "" matches any message with the field: no text to find.
    else if (k.op === "header" && k.value !== "") out.push({ part: "header", value: k.value });
  };
  walk(key);
  return out;
}

/** Whether evaluating `key` needs the message's bytes. */
export function needsContent(key: SearchKey): boolean {
  switch (key.op) {
    case "header":
    case "body":
    case "text":
      return true;
    case "date":
      return key.sent;
    case "and":
      return key.keys.some(needsContent);
    case "or":
      return needsContent(key.a) || needsContent(key.b);
    case "not":
      return needsContent(key.key);
    default:
      return false;
  }
}

/**
 * A message's content prepared for text matching (each view computed at most once). The
 * strings come from `mime/search_text.ts`, the same definitions a full-text index stores.
 */
export class SearchContent {
  #header: string | null = null;
  #body: string | null = null;
  readonly #fields = new Map<string, string[]>();
  /** Results of string keys already evaluated: the same key twice costs one pass. */
  readonly #hits = new Map<string, boolean>();
  /** Set by `matchesPaced`: when due, a new string key pauses the evaluation. */
  #pace: Pacer | null = null;
  /** A string key was evaluated in this attempt (each attempt makes progress). */
  #worked = false;
  constructor(readonly bytes: Uint8Array, readonly root: MimePart) {}

  /** Memoizes `compute` under `key` (a string key's part, field and needle). */
  memo(key: string, compute: () => boolean): boolean {
    let hit = this.#hits.get(key);
    if (hit === undefined) {
      if (this.#worked && this.#pace?.due) throw PAUSE;
      this.#hits.set(key, hit = compute());
      this.#worked = true;
    }
    return hit;
  }

  /** Starts an evaluation attempt that pauses when `pace` is due (null: never pauses). */
  attempt(pace: Pacer | null): void {
    this.#pace = pace;
    this.#worked = false;
  }

  /** Decoded, lower-cased values of one header field (addresses as they read), once. */
  fieldValues(name: string): string[] {
    let values = this.#fields.get(name);
    if (!values) this.#fields.set(name, values = fieldTexts(this.root, name));
    return values;
  }

  /** The whole header, encoded words decoded, lower-cased. */
  get headerText(): string {
    return this.#header ??= headerText(this.root);
  }

  /** The text parts of the body, transfer-decoded and charset-decoded, lower-cased. */
  get bodyText(): string {
    return this.#body ??= bodyText(this.bytes, this.root);
  }
}

/** What evaluation needs to know about one message. */
export interface SearchTarget {
  seq: number;
  uid: number;
  flags: readonly string[];
  size: number;
  internalDate: number;
  recent: boolean;
  /** RFC 7162: the message's mod-sequence (for MODSEQ). */
  modseq?: number;
  content: SearchContent | null;
}

/** How sequence sets resolve: `*` in each numbering, and the saved result for `$`. */
export interface SearchScope {
  exists: number;
  maxUid: number;
  savedUids: ReadonlySet<number>;
}

/** Resolved sets, per key and numbering (a search resolves each set once). */
const resolved = new WeakMap<SequenceSet, { star: number; set: IntervalSet }>();

function inSet(set: SequenceSet, n: number, star: number, saved: () => boolean): boolean {
  if (set.saved) return saved();
  let r = resolved.get(set);
  if (!r || r.star !== star) {
    r = { star, set: IntervalSet.of(set, star) };
    resolved.set(set, r);
  }
  return r.set.has(n);
}

const DAY = 86_400_000;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** The date of a Date: header as written (RFC 9051 §6.4.4: time and zone disregarded). */
export function sentDay(value: string): number | null {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(value);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2].toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3 obs-year
  return Date.UTC(year, month, Number(m[1]));
}

function compareDay(cmp: "before" | "on" | "since", day: number, target: number): boolean {
  switch (cmp) {
    case "before":
      return day < target;
    case "on":
      return day === target;
    case "since":
      return day >= target;
  }
}

/** Evaluates a key against one message. */
export function matches(key: SearchKey, m: SearchTarget, scope: SearchScope): boolean {
  switch (key.op) {
    case "all":
      return true;
    case "and":
      return key.keys.every((k) => matches(k, m, scope));
    case "or":
      return matches(key.a, m, scope) || matches(key.b, m, scope);
    case "not":
      return !matches(key.key, m, scope);
    case "flag": {
      const want = key.flag.toLowerCase();
      return m.flags.some((f) => f.toLowerCase() === want) === key.set;
    }
    case "seq":
      return inSet(key.set, m.seq, scope.exists, () => scope.savedUids.has(m.uid));
    case "uid":
      return inSet(key.set, m.uid, scope.maxUid, () => scope.savedUids.has(m.uid));
    case "larger":
      return m.size > key.size;
    case "smaller":
      return m.size < key.size;
    case "recent":
      return m.recent;
    case "modseq":
      return (m.modseq ?? 0) >= key.modseq;
    case "new":
      return m.recent && !m.flags.includes("\\Seen");
    case "old":
      return !m.recent;
    case "date": {
      let day: number | null;
      if (key.sent) {
        const v = m.content?.root.headers.find((f) => f.lname === "date")?.value;
        day = v ? sentDay(v) : null;
        if (day === null) return false;
      } else {
        day = Math.floor(m.internalDate / DAY) * DAY;
      }
      return compareDay(key.cmp, day, key.day);
    }
    case "header": {
      const c = m.content;
      if (!c) return false;
      // RFC 9051 §6.4.4: HEADER field "" matches every message that has the field.
      const needle = key.value.toLowerCase();
      return c.memo(
        `h\0${key.field}\0${needle}`,
        () => c.fieldValues(key.field).some((v) => containsText(v, needle)),
      );
    }
    case "body": {
      const c = m.content;
      if (!c) return false;
      const needle = key.value.toLowerCase();
      return c.memo(`b\0${needle}`, () => containsText(c.bodyText, needle));
    }
    case "text": {
      const c = m.content;
      if (!c) return false;
      const needle = key.value.toLowerCase();
      return c.memo(
        `t\0${needle}`,
        () => containsText(c.headerText, needle) || containsText(c.bodyText, needle),
      );
    }
  }
}

/** Thrown by `SearchContent.memo` to pause an evaluation; never leaves this module. */
const PAUSE = new Error("search evaluation paused");

/**
 * `matches`, yielding to the event loop when `pace` says the slice is used up: one string
 * key is one pass over a message's text, and a SEARCH may hold many. The evaluation stays
 * synchronous (no promise per node): a string key due for computing while the slice is
 * used up stops it, the caller yields, and the next attempt finds the keys done so far in
 * the memo. Each attempt computes at least one key, so it always finishes.
 */
export async function matchesPaced(
  key: SearchKey,
  m: SearchTarget,
  scope: SearchScope,
  pace: Pacer,
): Promise<boolean> {
  const c = m.content;
  for (;;) {
    c?.attempt(pace);
    try {
      return matches(key, m, scope);
    } catch (e) {
      if (e !== PAUSE) throw e;
      await pace.tick();
    } finally {
      c?.attempt(null);
    }
  }
}
