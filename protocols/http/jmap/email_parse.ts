/**
 * Email properties read from the message itself (RFC 8621 §4.1.3–4.1.4): the convenience
 * header properties (email_headers.ts forms), the preview, hasAttachment.
 *
 * Pure: bytes and the MIME tree in, JSON values out; never throws on message content.
 *
 * @module
 */
import { charsetOf, decodeBody, decodeCharset, type MimePart } from "../../../mime/mod.ts";
import { type Form, headerProperty } from "./email_headers.ts";
import { htmlToText } from "./html_text.ts";

export { utcDate } from "./email_headers.ts";

/** A convenience property: `header:{field}:as{form}` (RFC 8621 §4.1.3). */
export function headerAs(root: MimePart, field: string, form: Form): unknown {
  return headerProperty(root, { lname: field, form, all: false });
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
    text = htmlToText(text).replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
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
