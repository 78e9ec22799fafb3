/**
 * A message read once for every spam check: header fields, decoded subject and From, the
 * text of each text part (transfer encoding and charset decoded), HTML scanned for links
 * and images, attachments, and the URLs in the text.
 *
 * Pure and bounded: only the first `maxBytes` of the message are looked at (a spam check
 * of a 50 MB message reads its start, as SpamAssassin does), parts and URLs are capped.
 * Never throws on message content.
 *
 * @module
 */
import {
  decodeBody,
  decodeEncodedWords,
  type MimePart,
  parseAddressList,
  parseMime,
} from "../../../mime/mod.ts";
import { type HtmlLink, scanHtml } from "./html.ts";
import { charsetUnsaid, decodeText, redecodeHeader, sniffCharset } from "./charset.ts";

/** One attachment (a part with a file name, or a non-text leaf). */
export interface Attachment {
  filename: string;
  /** type/subtype, lower-case. */
  contentType: string;
}

/** A text part, decoded. */
export interface TextPart {
  subtype: string;
  /** The text a reader sees (HTML: tags removed). */
  text: string;
  /** The Content-Transfer-Encoding it came in. */
  encoding: string;
  charset: string;
  /** True when the part did not say its charset and it was guessed (charset.ts). */
  guessed?: boolean;
}

/** What the checks and the tokenizer see of a message. */
export interface ParsedMail {
  /** Top-level header fields: [lower-case name, unfolded value]. */
  headers: Array<[string, string]>;
  /** First value of a top-level field (lower-case name), or undefined. */
  header(name: string): string | undefined;
  subject: string;
  /** The From address (lower-case) and display name, "" when missing. */
  fromAddress: string;
  fromName: string;
  /** Every text part, in order. */
  texts: TextPart[];
  /** True when some text part is HTML, and when some is plain text. */
  hasHtml: boolean;
  hasPlain: boolean;
  /** Links of the HTML parts. */
  links: HtmlLink[];
  images: number;
  hiddenText: boolean;
  htmlTags: Set<string>;
  attachments: Attachment[];
  /** URLs found in the text and the HTML links, at most {@link MAX_URLS}. */
  urls: string[];
  /** Media types of every leaf part ("text/plain", "image/gif" ...). */
  partTypes: string[];
  /**
   * The MIME tree's shape: "multipart/alternative(text/plain,text/html)". A mailing tool
   * builds the same shape for every campaign, whatever the words.
   */
  structure: string;
  /** Message size in octets (the whole message, not just the part read). */
  size: number;
}

/** Bytes of a message that are looked at. */
export const DEFAULT_MAX_BYTES = 256 * 1024;
/** URLs kept per message. */
export const MAX_URLS = 100;
const MAX_TEXT = 200_000;

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'()\[\]{}]{2,300}/gi;

function param(part: MimePart, name: string): string | undefined {
  return part.params.find((p) => p.name === name)?.value ??
    part.dispositionParams.find((p) => p.name === name)?.value;
}

/** A leaf part and the charset parameter of the nearest multipart above it (if any). */
type Leaf = [MimePart, string | undefined];

/** The leaf parts of a tree, depth first, at most ~200. */
function leaves(root: MimePart, out: Leaf[], depth = 0, inherited?: string): void {
  if (out.length > 200 || depth > 20) return;
  if (root.kind === "multipart") {
    const cs = root.params.find((x) => x.name === "charset")?.value ?? inherited;
    for (const c of root.children) leaves(c, out, depth + 1, cs);
  } else if (root.kind === "message" && root.embedded) leaves(root.embedded, out, depth + 1);
  else out.push([root, inherited]);
}

/** The shape of a MIME tree, at most 4 levels and ~120 characters. */
export function structureOf(p: MimePart, depth = 0): string {
  const type = `${p.type}/${p.subtype}`;
  if (p.kind !== "multipart" || depth >= 3) return type;
  const kids = p.children.slice(0, 6).map((c) => structureOf(c, depth + 1));
  return `${type}(${kids.join(",")}${p.children.length > 6 ? ",..." : ""})`.slice(0, 120);
}

/** Reads a message for the spam checks. */
export function parseMail(raw: Uint8Array, maxBytes = DEFAULT_MAX_BYTES): ParsedMail {
  const bytes = raw.length > maxBytes ? raw.subarray(0, maxBytes) : raw;
  // Content-* fields count even without MIME-Version: base64 must not slip past the rules.
  const root = parseMime(bytes, { nonMimeFields: true });
  const headers: Array<[string, string]> = root.headers.map((f) => [f.lname, f.value]);
  const first = new Map<string, string>();
  for (const [k, v] of headers) if (!first.has(k)) first.set(k, v);
  const from = parseAddressList(first.get("from") ?? "").find((a) => a.host !== null);
  const texts: TextPart[] = [];
  const links: HtmlLink[] = [];
  const attachments: Attachment[] = [];
  const partTypes: string[] = [];
  let images = 0;
  let hiddenText = false;
  const htmlTags = new Set<string>();
  let textBudget = MAX_TEXT;
  const parts: Leaf[] = [];
  leaves(root, parts);
  for (const [p, inherited] of parts) {
    const type = `${p.type}/${p.subtype}`;
    partTypes.push(type);
    const filename = param(p, "filename") ?? param(p, "name");
    const isAttachment = p.disposition === "attachment" || filename !== undefined;
    if (isAttachment || p.type !== "text") {
      if (isAttachment || p.type === "application") {
        attachments.push({
          filename: filename ? decodeEncodedWords(filename) : "",
          contentType: type,
        });
      }
      if (p.type !== "text") continue;
      if (isAttachment && p.subtype !== "html" && p.subtype !== "plain") continue;
    }
    if (textBudget <= 0) continue;
    const body = decodeBody(bytes, p) ?? bytes.subarray(p.bodyStart, p.bodyEnd);
    const declared = p.params.find((x) => x.name === "charset")?.value;
    // An unsaid charset is guessed (charset.ts): CJK spam often says none.
    const decoded = decodeText(
      body.subarray(0, textBudget * 2),
      declared,
      inherited,
      p.subtype === "html",
    );
    let text = decoded.text;
    const charset = decoded.charset;
    if (p.subtype === "html") {
      const scan = scanHtml(text);
      text = scan.text;
      links.push(...scan.links.slice(0, MAX_URLS - links.length));
      images += scan.images;
      hiddenText ||= scan.hiddenText;
      for (const t of scan.tags) htmlTags.add(t);
    }
    text = text.slice(0, textBudget);
    textBudget -= text.length;
    texts.push({
      subtype: p.subtype,
      text,
      encoding: p.encoding,
      charset: charset.toLowerCase(),
      guessed: charsetUnsaid(declared) && !charsetUnsaid(charset),
    });
  }
  const urls: string[] = [];
  for (const l of links) if (/^(https?:|www\.)/i.test(l.href)) urls.push(l.href);
  for (const t of texts) {
    if (urls.length >= MAX_URLS) break;
    for (const m of t.text.matchAll(URL_RE)) {
      urls.push(m[0].replace(/[.,;:!?]+$/, ""));
      if (urls.length >= MAX_URLS) break;
    }
  }
  return {
    headers,
    header: (name) => first.get(name.toLowerCase()),
    subject: subjectOf(root, bytes, first.get("subject") ?? "", texts),
    fromAddress: from ? `${from.mailbox}@${from.host}`.toLowerCase() : "",
    fromName: from?.name ? decodeEncodedWords(from.name) : "",
    texts,
    hasHtml: texts.some((t) => t.subtype === "html"),
    hasPlain: texts.some((t) => t.subtype !== "html"),
    links,
    images,
    hiddenText,
    htmlTags,
    attachments,
    urls: [...new Set(urls)],
    partTypes,
    structure: structureOf(root),
    size: raw.length,
  };
}

/**
 * The decoded Subject. Raw 8-bit bytes that are not UTF-8 (mime/ read them as windows-1252)
 * are decoded again in the charset of the body's text, or a sniffed one: a GB2312 subject
 * without encoded words.
 */
function subjectOf(root: MimePart, bytes: Uint8Array, value: string, texts: TextPart[]): string {
  const f = root.headers.find((h) => h.lname === "subject");
  const raw = f ? bytes.subarray(f.valueStart, f.end) : undefined;
  if (raw && raw.some((b) => b >= 0x80)) {
    const cs = texts.find((t) => !charsetUnsaid(t.charset))?.charset ?? sniffCharset(raw);
    const again = redecodeHeader(raw, cs);
    if (again !== null) return decodeEncodedWords(again.replace(/\r?\n[ \t]/g, " ").trim());
  }
  return decodeEncodedWords(value);
}

/**
 * The domain that ends a Message-ID or Return-Path value ("<id@host.example> " ->
 * "host.example"): after the first "@" of the value's last word, lower-case; undefined when
 * that word has none. One backward scan (the pattern it replaces backtracked: seconds on a
 * field of 100 KB of "@").
 */
export function domainAtEnd(value: string): string | undefined {
  const blank = (c: string) => /\s/.test(c);
  let end = value.length;
  while (end > 0 && blank(value[end - 1])) end--;
  if (end > 0 && value[end - 1] === ">") end--;
  let start = end;
  while (start > 0 && value[start - 1] !== ">" && !blank(value[start - 1])) start--;
  const at = value.indexOf("@", start);
  return at >= 0 && at < end - 1 ? value.slice(at + 1, end).toLowerCase() : undefined;
}

/**
 * The id part of a Message-ID ("<id@host>" -> "id"): from the first "<" whose run up to the
 * next "@" or ">" ends at an "@". Linear: every "<" before the same stop shares its answer.
 */
export function idLeftPart(value: string): string | undefined {
  for (let lt = value.indexOf("<"); lt >= 0; lt = value.indexOf("<", lt)) {
    let k = lt + 1;
    while (k < value.length && value[k] !== "@" && value[k] !== ">") k++;
    if (k === value.length) return undefined;
    if (value[k] === "@") return value.slice(lt + 1, k);
    lt = k;
  }
  return undefined;
}

/** The host name of a URL ("www.x.test/..." counts as http), lower-case, or null. */
export function urlHost(url: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@\/?#]*@)?(\[[0-9a-f:.]+\]|[^\/?#:]+)/i.exec(
    url.trim(),
  );
  if (!m) return null;
  const host = m[1].toLowerCase().replace(/\.$/, "");
  return /^[a-z0-9.\-\[\]:]+$/.test(host) && host.includes(".") ? host : null;
}
