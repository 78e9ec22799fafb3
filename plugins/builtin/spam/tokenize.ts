/**
 * Tokens for the Bayesian classifier: words of the subject and the text, selected header
 * fields with a prefix per field, URL hosts, attachment types. One token set per message
 * (repeats count once, as in Graham's and Robinson's schemes).
 *
 * Left out on purpose (tokenizer 3, measured on the held-out protocols of bench/spam.ts):
 * which header fields are present (Delivered-To, X-Mailman-Version...) and which HTML tags
 * are used. Both say more about the path a message took and the tool that wrote it than
 * about whether it is spam: when the ham learned is mostly plain text from one mailbox,
 * every HTML newsletter and every message from another mailbox looked like spam (the
 * hard-ham-held-out false positives went from 42 to 18 of 125, and the spam of a later
 * period missed from 23 to 18 of 150, without them).
 *
 * Headers a filter writes (X-Spam-*, our Authentication-Results) are left out: learning
 * from them would teach the classifier its own past verdicts.
 *
 * Pure. Bump {@link TOKENIZER_VERSION} whenever the tokens a message gives change: learned
 * records carry it, so a message learned with other tokens is not "unlearned" with these.
 *
 * @module
 */
import { domainAtEnd, idLeftPart, type ParsedMail, urlHost } from "./parse.ts";
import { splitMailbox } from "../../../mime/address.ts";
import { phraseKinds } from "./rules/phrases.ts";
import { contentRules } from "./rules/content.ts";
import { forgedRules } from "./rules/forged.ts";
import { cjkPairs, isCjk, newPairBudget, scriptTokens } from "./scripts.ts";
import { LIST_ID_PREFIX, listIdOf } from "./list_source.ts";

/** Version of the token scheme (stored with each learned message). */
export const TOKENIZER_VERSION = 7;

/** Most tokens taken from one message. */
export const MAX_TOKENS = 1500;

const MIN_WORD = 3;
const MAX_WORD = 13;

/** Header fields that are never tokenized (filters' own verdicts, per-delivery noise). */
const SKIP_HEADER =
  /^(x-spam|x-bogosity|x-dspam|x-virus|authentication-results|received-spf|x-denomail)/;

/** Header fields whose words are tokenized, with their prefix. */
const WORD_HEADERS: Record<string, string> = {
  "x-mailer": "xm",
  "user-agent": "xm",
  "content-type": "ct",
  "x-mimeole": "xm",
  "organization": "org",
  "list-id": "list",
  "precedence": "prec",
  "x-priority": "xprio",
  "x-msmail-priority": "xprio",
  "reply-to": "rt",
  "importance": "imp",
};

/**
 * Header fields whose whole value, with digits made 9, is one token ("hv:x-mailer:microsoft
 * outlook express 9.99.9999.9999"): the tool that wrote a message stays the same from one
 * campaign to the next.
 */
const VALUE_HEADERS = new Set([
  "x-mailer",
  "user-agent",
  "x-mimeole",
  "mime-version",
  "x-priority",
  "x-msmail-priority",
  "precedence",
  "importance",
  "content-transfer-encoding",
]);

/** A header value as one token: lower-case, digits as 9, white space collapsed, cut. */
function valueToken(name: string, value: string): string {
  const v = value.toLowerCase().replace(/[0-9]/g, "9").replace(/\s+/g, " ").trim();
  return `hv:${name}:${v.slice(0, 60)}`;
}

/**
 * The character-class shape of a word that mixes classes ("v1agra" -> "a9a",
 * "$99.95" -> "$9.9"): the disguises of spam words keep their shape when the words change.
 * Null for a plain word or number.
 */
export function shapeOf(w: string): string | null {
  let shape = "";
  let last = "";
  let letters = false, digits = false, marks = false;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    let k: string;
    if (c >= 48 && c <= 57) {
      k = "9";
      digits = true;
    } else if (c > 127 || ((c | 0x20) - 97) >>> 0 < 26) {
      k = "a";
      letters = true;
    } else {
      k = w[i];
      marks = true;
    }
    if (k !== last) shape += k;
    last = k;
  }
  if (!(letters && digits) && !((letters || digits) && marks && shape.length > 2)) return null;
  return shape.length <= 8 ? shape : null;
}

/** Marks that do not start or end a word. */
const EDGES = /^['%.\-_]+|['.\-_]+$/g;

/** '  %  .  -  _  (char codes) */
function isEdgeMark(c: number): boolean {
  return c === 39 || c === 37 || c === 46 || c === 45 || c === 95;
}

/**
 * What words are made of: letters, digits and ' $ € £ % . - _ (anything else separates).
 * Decided once per UTF-16 code unit and kept in a table (0: not known yet, 1: word, 2:
 * separator); code points above U+FFFF are asked each time (rare).
 */
const WORD_CHAR = /^[\p{L}\p{N}'$€£%.\-_]$/u;
const wordUnit = new Uint8Array(0x10000);

function isWordUnit(c: number): boolean {
  let k = wordUnit[c];
  if (k === 0) wordUnit[c] = k = WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
  return k === 1;
}

/**
 * Width (1 or 2 code units) of the word character at `i`, or 0 for a separator. A
 * surrogate pair is one code point (as a /u regex sees it); a lone surrogate separates.
 */
function wordCharAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return isWordUnit(c) ? 1 : 0;
  const cp = s.codePointAt(i)!;
  if (cp <= 0xffff) return 0;
  return WORD_CHAR.test(String.fromCodePoint(cp)) ? 2 : 0;
}

/** Slots of the span table (a power of two); it dedupes at most half that many spans. */
const SPAN_SLOTS = 4096;
const spanStart = new Int32Array(SPAN_SLOTS);
const spanLen = new Int32Array(SPAN_SLOTS);
/** The table's owner per slot (a slot of an older table reads as empty: no clearing). */
const spanOwner = new Int32Array(SPAN_SLOTS);
let spanTables = 0;

/**
 * The word spans of one text seen so far, to skip repeats before they cost a substring and
 * a Set insertion of a string (most words of a text are repeats, and a string Set insertion
 * costs several times the scan: measured). Exact: a hash hit is confirmed by comparing the
 * characters. Open addressing over module-level typed arrays, owned by one table at a time
 * (the tokenizer is synchronous).
 */
class SpanTable {
  #s: string;
  #id: number;
  #used = 0;

  constructor(s: string) {
    this.#s = s;
    if (spanTables >= 0x7fffffff) {
      spanOwner.fill(0);
      spanTables = 0;
    }
    this.#id = ++spanTables;
  }

  /** True when s[start, end) was seen before; else remembers it (while there is room). */
  seen(start: number, end: number): boolean {
    const s = this.#s;
    const len = end - start;
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ s.charCodeAt(k), 16777619);
    let slot = h & (SPAN_SLOTS - 1);
    while (spanOwner[slot] === this.#id) {
      if (spanLen[slot] === len && this.#same(spanStart[slot], start, len)) return true;
      slot = (slot + 1) & (SPAN_SLOTS - 1);
    }
    if (this.#used >= SPAN_SLOTS / 2) return false; // full: every later span is "new"
    this.#used++;
    spanOwner[slot] = this.#id;
    spanStart[slot] = start;
    spanLen[slot] = len;
    return false;
  }

  #same(a: number, b: number, len: number): boolean {
    const s = this.#s;
    for (let k = 0; k < len; k++) if (s.charCodeAt(a + k) !== s.charCodeAt(b + k)) return false;
    return true;
  }
}

/**
 * Words of a text, lower-case: runs of letters and digits (and $ € £ %), with inner
 * ' . - _ kept ("don't", "3.5", "e-mail"). This is the hot loop of classifying: one scan
 * of the lower-cased text with a table per character, no regex and no string per
 * separator run, a substring only for a word long enough to count.
 */
function words(text: string, prefix: string, out: Set<string>): void {
  const s = text.toLowerCase();
  const n = s.length;
  const spans = new SpanTable(s);
  let i = 0;
  while (i < n) {
    let width = wordCharAt(s, i);
    if (width === 0) {
      i++;
      continue;
    }
    const start = i;
    let cjk = false;
    while (width > 0) {
      if (width === 1 && isCjk(s.charCodeAt(i))) cjk = true;
      i += width;
      width = i < n ? wordCharAt(s, i) : 0;
    }
    if (cjk) {
      // Chinese and Japanese have no spaces and Korean words are short: pairs of characters
      // stand for words (as in CJK search engines), the pieces between stay words.
      if (!spans.seen(start, i)) {
        cjkPairs(s, start, i, prefix, out, (a, b) => word(s, a, b, prefix, out));
      }
      if (out.size >= MAX_TOKENS) return;
      continue;
    }
    if (i - start < MIN_WORD) continue;
    // The same characters give the same token: a repeat has nothing to add.
    if (spans.seen(start, i)) continue;
    if (out.size >= MAX_TOKENS) return;
    word(s, start, i, prefix, out);
  }
}

/** The token of the word s[start, end): marks at the edges dropped, a long one summarized. */
function word(s: string, start: number, end: number, prefix: string, out: Set<string>): void {
  if (end - start < MIN_WORD) return;
  let w = s.slice(start, end);
  if (isEdgeMark(w.charCodeAt(0)) || isEdgeMark(w.charCodeAt(w.length - 1))) {
    w = w.replace(EDGES, "");
    if (w.length < MIN_WORD) return;
  }
  if (w.length > MAX_WORD) {
    // SpamBayes: a long "word" is summarized by its first character and length class.
    out.add(`${prefix}skip:${w[0]}${Math.floor(w.length / 10) * 10}`);
    return;
  }
  out.add(prefix + w);
  const shape = shapeOf(w);
  if (shape !== null) out.add(`shape:${prefix}${shape}`);
}

/** Host suffixes of a URL host: a.b.example.com -> example.com, b.example.com, ... (max 3). */
function hostTokens(host: string, prefix: string, out: Set<string>): void {
  if (/^\[?[0-9.:]+\]?$/.test(host)) {
    out.add(`${prefix}ip`);
    return;
  }
  const labels = host.split(".");
  for (let i = Math.max(0, labels.length - 4); i <= labels.length - 2; i++) {
    out.add(prefix + labels.slice(i).join("."));
  }
}

/** The /16 of an IPv4 address, or null. */
function ipNet(ip: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(ip);
  return m ? `${m[1]}.${m[2]}` : null;
}

/** Tokens of the Received fields: the hosts and /16 networks mail passed through. */
function receivedTokens(value: string, out: Set<string>): void {
  const from = /^from\s+(\S+)/i.exec(value)?.[1];
  if (from) hostTokens(from.toLowerCase().replace(/[()]/g, ""), "rcvd:", out);
  for (const m of value.matchAll(/\[(\d{1,3}(?:\.\d{1,3}){3})\]/g)) {
    const net = ipNet(m[1]);
    if (net) out.add(`rcvd:net:${net}`);
  }
  if (/\bwith\s+(e?smtps?a?|http|local|lmtp)\b/i.test(value)) {
    out.add(`rcvd:with:${/\bwith\s+(\S+)/i.exec(value)![1].toLowerCase()}`);
  }
}

/** 0, 1, 2-4, 5+: a count as a band, so a token stands for "a few" or "many". */
function band(n: number): string {
  return n === 0 ? "0" : n === 1 ? "1" : n < 5 ? "2-4" : "5+";
}

/**
 * Token classes that do not depend on a campaign's words (issue 21, campaigns held out):
 * how many prices and exclamation marks, how many distinct link hosts, link shapes
 * (numeric host, port, user part, a redirect carrying another URL) and the shape of the
 * Message-ID's left part (each mailing tool makes its own: runs of digits as 9, of
 * letters as a).
 */
function shapeTokens(m: ParsedMail, out: Set<string>): void {
  let money = 0, excl = 0;
  for (const t of m.texts) {
    const s = t.text.slice(0, 32768);
    money += s.match(/[$€£]\s?\d/g)?.length ?? 0;
    excl += s.match(/!/g)?.length ?? 0;
  }
  out.add(`money:${band(money)}`);
  out.add(`excl:${band(excl)}`);
  const hosts = new Set<string>();
  for (const url of m.urls) {
    const host = urlHost(url);
    if (host) hosts.add(host);
    if (/^(https?:\/\/)?(\d{1,3}\.){3}\d{1,3}/i.test(url)) out.add("url:shape:ip");
    if (/^https?:\/\/[^\/?#]*:\d+/i.test(url)) out.add("url:shape:port");
    if (/^https?:\/\/[^\/?#]*@/i.test(url)) out.add("url:shape:at");
    if (/[?&=](https?:|https?%3a|www\.)/i.test(url)) out.add("url:shape:redirect");
  }
  out.add(`url:hosts:${band(hosts.size)}`);
  const mid = idLeftPart(m.header("message-id") ?? "");
  if (mid !== undefined) {
    out.add(`midshape:${mid.replace(/[0-9]+/g, "9").replace(/[a-z]+/gi, "a").slice(0, 30)}`);
  }
}

/** The tokens of a parsed message. */
export function tokenize(m: ParsedMail): Set<string> {
  const out = new Set<string>();
  newPairBudget();
  words(m.subject, "s:", out);
  if (m.subject === "") out.add("s:(none)");
  if (
    m.subject.length > 0 && m.subject === m.subject.toUpperCase() && /\p{Lu}{4}/u.test(m.subject)
  ) {
    out.add("s:(allcaps)");
  }
  if (m.fromAddress) {
    out.add(`from:${m.fromAddress}`);
    const domain = splitMailbox(m.fromAddress)?.domain ?? m.fromAddress;
    hostTokens(domain, "from:dom:", out);
  } else out.add("from:(none)");
  words(m.fromName, "fromname:", out);
  // Tokenizer 7: the list it came through, as one token (list_source.ts reads its counts).
  const list = listIdOf((n) => m.header(n));
  if (list) out.add(LIST_ID_PREFIX + list);
  let received = 0;
  for (const [name, value] of m.headers) {
    if (SKIP_HEADER.test(name)) continue;
    if (name === "received" && received++ < 6) receivedTokens(value, out);
    const prefix = WORD_HEADERS[name];
    if (prefix) words(value, `${prefix}:`, out);
    if (name === "message-id") {
      const dom = domainAtEnd(value);
      out.add(dom ? `mid:${dom.split(".").slice(-2).join(".")}` : "mid:(odd)");
    }
    if (name === "to" || name === "cc") {
      const n = value.split(",").length;
      out.add(`${name}:count:${n > 5 ? "many" : n}`);
      if (/undisclosed/i.test(value)) out.add(`${name}:undisclosed`);
    }
    if (name === "content-transfer-encoding") out.add(`cte:${value.toLowerCase().trim()}`);
    if (VALUE_HEADERS.has(name)) out.add(valueToken(name, value));
    if (name === "return-path") {
      const dom = domainAtEnd(value);
      if (dom) hostTokens(dom, "rp:dom:", out);
      else out.add(value.includes("<>") ? "rp:(null)" : "rp:(odd)");
    }
  }
  for (const t of m.partTypes) out.add(`part:${t}`);
  out.add(`mime:${m.structure}`);
  // Before the words, which stop at MAX_TOKENS. Kinds of sales-pressure phrase
  // (rules/phrases.ts): the same in every campaign.
  const kinds = phraseKinds(m);
  for (const k of kinds) out.add(`phrase:${k}`);
  out.add(`phrase:count:${Math.min(kinds.filter((k) => !k.startsWith("fee_")).length, 3)}`);
  shapeTokens(m, out);
  // Content and forged-tool rule hits (rules/content.ts, rules/forged.ts) as tokens too.
  for (const h of [...contentRules(m, {}), ...forgedRules(m, {})]) out.add(`rule:${h.name}`);
  scriptTokens(m, out);
  for (const t of m.texts) {
    out.add(`charset:${t.charset}`);
    if (t.guessed) out.add("charset:(guessed)");
    if (t.encoding !== "7bit") out.add(`cte:${t.subtype}:${t.encoding}`);
    words(t.text, "", out);
    for (const m of t.text.matchAll(/([!?$*])\1{2,}/g)) out.add(`punct:${m[0].slice(0, 5)}`);
  }
  if (m.images > 0) out.add(`html:img:${Math.min(m.images, 5)}`);
  if (m.hiddenText) out.add("html:hidden");
  for (const url of m.urls) {
    const host = urlHost(url);
    if (host) hostTokens(host, "url:", out);
    if (/^https:/i.test(url)) out.add("url:https");
    // SpamBayes: the pieces of the path ("url:remove", "url:cgi-bin") tell a lot too.
    const path = /^(?:[a-z]+:\/\/)?[^\/?#]*([\/?#].*)?$/i.exec(url)?.[1] ?? "";
    for (const piece of path.toLowerCase().split(/[\/?#&=.,;:_%+-]+/).slice(0, 8)) {
      if (piece.length >= 3 && piece.length <= 20) out.add(`url:${piece}`);
    }
  }
  for (const a of m.attachments) {
    const ext = /\.([a-z0-9]{1,6})$/i.exec(a.filename)?.[1]?.toLowerCase();
    out.add(`att:${ext ?? "(none)"}`);
    out.add(`att:type:${a.contentType}`);
  }
  return out;
}
