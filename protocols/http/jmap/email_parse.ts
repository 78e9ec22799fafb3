/**
 * Email properties read from the message itself (RFC 8621 §4.1.2–4.1.4): header fields in
 * their parsed forms (addresses, message ids, dates, text) and the preview.
 *
 * Pure: bytes and the MIME tree in, JSON values out; never throws on message content.
 *
 * @module
 */
import {
  charsetOf,
  decodeBody,
  decodeCharset,
  decodeEncodedWords,
  headerValue,
  type MimePart,
  parseAddressList,
} from "../../../mime/mod.ts";

export interface EmailAddress {
  name: string | null;
  email: string;
}

/** RFC 8621 §4.1.2.3 asAddresses (groups flattened, as the header's address list). */
export function addresses(root: MimePart, field: string): EmailAddress[] | null {
  const v = headerValue(root, field);
  if (v === null) return null;
  const out: EmailAddress[] = [];
  for (const a of parseAddressList(v)) {
    if (a.mailbox === null || a.host === null) continue; // group markers
    const name = a.name === null ? null : decodeEncodedWords(a.name).trim() || null;
    out.push({ name, email: `${a.mailbox}@${a.host}` });
  }
  return out;
}

/** RFC 8621 §4.1.2.4 asMessageIds: the ids between angle brackets, or null. */
export function messageIds(root: MimePart, field: string): string[] | null {
  const v = headerValue(root, field);
  if (v === null) return null;
  const ids = [...v.matchAll(/<([^<>\s]{1,998})>/g)].map((m) => m[1]);
  return ids.length ? ids : null;
}

/** RFC 8621 §4.1.2.2 asText: encoded words decoded, white space collapsed. */
export function headerText(root: MimePart, field: string): string | null {
  const v = headerValue(root, field);
  return v === null ? null : decodeEncodedWords(v).replace(/\s+/g, " ").trim();
}

/** RFC 8621 §4.1.2.5 asDate, as a UTCDate (or null when absent or unparseable). */
export function headerDate(root: MimePart, field: string): string | null {
  const v = headerValue(root, field);
  if (v === null) return null;
  // Date.parse reads RFC 5322 dates; comments such as "(UTC)" are dropped first.
  const t = Date.parse(v.replace(/\([^()]*\)/g, " ").trim());
  return Number.isFinite(t) ? utcDate(t) : null;
}

/** RFC 8620 §1.4 UTCDate: "2014-10-30T14:12:00Z" (no fraction of a second when zero). */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

const PREVIEW_CHARS = 256;

/**
 * RFC 8621 §4.1.4 preview: up to 256 characters of the first text part's content, white
 * space collapsed (HTML tags dropped when only HTML is there).
 */
export function preview(bytes: Uint8Array, root: MimePart): string {
  const part = firstText(root, "plain", 0) ?? firstText(root, "html", 0);
  if (!part) return "";
  const data = decodeBody(bytes, part) ?? bytes.subarray(part.bodyStart, part.bodyEnd);
  // Enough bytes for 256 characters even after tags and white space are removed.
  let text = decodeCharset(data.subarray(0, 16 * 1024), charsetOf(part));
  if (part.subtype === "html") {
    text = text.replace(/<(style|script)[^>]*>[^]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ")
      .replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }
  return [...text.replace(/\s+/g, " ").trim()].slice(0, PREVIEW_CHARS).join("");
}

function firstText(p: MimePart, subtype: string, depth: number): MimePart | null {
  if (depth > 20) return null;
  if (p.kind === "multipart") {
    for (const c of p.children) {
      const t = firstText(c, subtype, depth + 1);
      if (t) return t;
    }
    return null;
  }
  const attachment = p.disposition === "attachment";
  return p.type === "text" && p.subtype === subtype && !attachment ? p : null;
}

/** RFC 8621 §4.1.4 hasAttachment: a part with a disposition of attachment, or a file name. */
export function hasAttachment(root: MimePart): boolean {
  const walk = (p: MimePart, depth: number): boolean => {
    if (depth > 20) return false;
    if (p.kind === "multipart") return p.children.some((c) => walk(c, depth + 1));
    if (p === root) return false;
    return p.disposition === "attachment" ||
      p.dispositionParams.some((x) => x.name === "filename") ||
      p.params.some((x) => x.name === "name");
  };
  return walk(root, 0);
}
