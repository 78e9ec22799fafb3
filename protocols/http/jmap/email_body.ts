/**
 * The body of an Email (RFC 8621 §4.1.4): bodyStructure as EmailBodyPart objects, the
 * textBody / htmlBody / attachments lists of the RFC's `parseStructure` algorithm, and
 * bodyValues (decoded text, optionally truncated).
 *
 * partIds are IMAP section numbers ("1", "2.1"; a single-part message's body is "1"), so a
 * part's blob id (`p<blob>_<n>_<n>`, ids.ts) finds it again with mime's `findPart`. Pure:
 * bytes and the MIME tree in, JSON values out.
 *
 * @module
 */
import {
  charsetOf,
  decodeBody,
  decodeCharset,
  decodeEncodedWords,
  type MimePart,
  paramValue,
} from "../../../mime/mod.ts";
import type { JsonObject } from "./json.ts";

/** The blob id of the part at section `path` of the message being shown, or null. */
export type PartBlobIds = (path: readonly number[]) => string | null;

/** RFC 8621 §4.2 default bodyProperties. */
export const DEFAULT_BODY_PROPERTIES = [
  "partId",
  "blobId",
  "size",
  "name",
  "type",
  "charset",
  "disposition",
  "cid",
  "language",
  "location",
];
export const BODY_PROPERTIES = [...DEFAULT_BODY_PROPERTIES, "headers", "subParts"];

/** A leaf part with its section path. */
interface Leaf {
  part: MimePart;
  path: number[];
}

const dec = new TextDecoder();

const mediaType = (p: MimePart) => `${p.type}/${p.subtype}`;
const isInlineMediaType = (t: string) =>
  t.startsWith("image/") || t.startsWith("audio/") || t.startsWith("video/");

function nameOf(p: MimePart): string | null {
  const n = paramValue(p.dispositionParams, "filename") ?? paramValue(p.params, "name");
  return n === undefined ? null : decodeEncodedWords(n);
}

/** Octets after transfer decoding (RFC 8621 §4.1.4 size). */
function decodedSize(bytes: Uint8Array, p: MimePart): number {
  if (p.kind === "multipart") return 0;
  return (decodeBody(bytes, p) ?? bytes.subarray(p.bodyStart, p.bodyEnd)).byteLength;
}

/**
 * Every header field of `p` in order, in Raw form (RFC 8621 §4.1.3 EmailHeader: the name as
 * written, the value from after the colon to before the final CRLF, folding kept).
 */
export function headerList(p: MimePart): JsonObject[] {
  return p.headers.map((f) => ({ name: f.name, value: dec.decode(f.raw) }));
}

/** The EmailBodyPart of `p` (at section `path`) with the asked properties. */
function bodyPart(
  bytes: Uint8Array,
  blobIds: PartBlobIds,
  p: MimePart,
  path: number[],
  properties: readonly string[],
): JsonObject {
  const leaf = p.kind !== "multipart";
  const all: Record<string, () => unknown> = {
    partId: () => leaf ? path.join(".") : null,
    blobId: () => leaf ? blobIds(path) : null,
    size: () => decodedSize(bytes, p),
    headers: () => headerList(p),
    name: () => nameOf(p),
    type: () => mediaType(p),
    charset: () => p.type === "text" ? charsetOf(p) : paramValue(p.params, "charset") ?? null,
    disposition: () => p.disposition,
    cid: () => p.id === null ? null : p.id.replace(/^\s*<|>\s*$/g, ""),
    language: () => p.language,
    location: () => p.location,
    subParts: () =>
      leaf
        ? null
        : p.children.map((c, i) => bodyPart(bytes, blobIds, c, sectionOf(path, i), properties)),
  };
  const out: JsonObject = Object.create(null);
  for (const k of properties) out[k] = all[k]();
  return out;
}

/** The section path of child `i` of the multipart at `path` (the root's children: [i+1]). */
function sectionOf(path: number[], i: number): number[] {
  return [...path, i + 1];
}

/** The root's section path: a single-part message's body is section 1. */
function rootPath(root: MimePart): number[] {
  return root.kind === "multipart" ? [] : [1];
}

/** RFC 8621 §4.1.4 bodyStructure. */
export function bodyStructure(
  bytes: Uint8Array,
  blobIds: PartBlobIds,
  root: MimePart,
  properties: readonly string[],
): JsonObject {
  return bodyPart(bytes, blobIds, root, rootPath(root), once([...properties, "subParts"]));
}

/**
 * Each property name once. A name listed twice was computed twice, and `subParts` recurses:
 * twice at every level is 2^depth calls — a client asking `"subParts"` (or any name twice)
 * of a message nested 40 deep (MIME allows 50, RFC 2046 §5.1 sets no limit) held the
 * server's only thread for days. RFC 8620 §5.1 lists no meaning for a repeated name.
 */
function once(properties: readonly string[]): string[] {
  return [...new Set(properties)];
}

/** RFC 8621 §4.1.4: the `parseStructure` algorithm, as the RFC gives it. */
export function bodyLists(root: MimePart): { text: Leaf[]; html: Leaf[]; attachments: Leaf[] } {
  const text: Leaf[] = [];
  const html: Leaf[] = [];
  const attachments: Leaf[] = [];
  const walk = (
    parts: Leaf[],
    multipartType: string,
    inAlternative: boolean,
    htmlBody: Leaf[] | null,
    textBody: Leaf[] | null,
    depth: number,
  ) => {
    if (depth > 50) return;
    const textLength = textBody ? textBody.length : -1;
    const htmlLength = htmlBody ? htmlBody.length : -1;
    for (let i = 0; i < parts.length; i++) {
      const leaf = parts[i];
      const p = leaf.part;
      const type = mediaType(p);
      const isInline = p.disposition !== "attachment" &&
        (type === "text/plain" || type === "text/html" || isInlineMediaType(type)) &&
        (i === 0 ||
          (multipartType !== "related" && (isInlineMediaType(type) || nameOf(p) === null)));
      if (p.kind === "multipart") {
        const children = p.children.map((c, j) => ({ part: c, path: sectionOf(leaf.path, j) }));
        walk(
          children,
          p.subtype,
          inAlternative || p.subtype === "alternative",
          htmlBody,
          textBody,
          depth + 1,
        );
      } else if (isInline) {
        if (multipartType === "alternative") {
          if (type === "text/plain") textBody?.push(leaf);
          else if (type === "text/html") htmlBody?.push(leaf);
          else attachments.push(leaf);
          continue;
        } else if (inAlternative) {
          if (type === "text/plain") htmlBody = null;
          if (type === "text/html") textBody = null;
        }
        textBody?.push(leaf);
        htmlBody?.push(leaf);
        if ((!textBody || !htmlBody) && isInlineMediaType(type)) attachments.push(leaf);
      } else {
        attachments.push(leaf);
      }
    }
    if (multipartType === "alternative" && textBody && htmlBody) {
      // Only an HTML part found: it is the text body too; and the other way round.
      if (textLength === textBody.length && htmlLength !== htmlBody.length) {
        for (let i = htmlLength; i < htmlBody.length; i++) textBody.push(htmlBody[i]);
      }
      if (htmlLength === htmlBody.length && textLength !== textBody.length) {
        for (let i = textLength; i < textBody.length; i++) htmlBody.push(textBody[i]);
      }
    }
  };
  walk([{ part: root, path: rootPath(root) }], "mixed", false, html, text, 0);
  return { text, html, attachments };
}

/** The EmailBodyPart list of leaves. */
export function partList(
  bytes: Uint8Array,
  blobIds: PartBlobIds,
  leaves: readonly Leaf[],
  properties: readonly string[],
): JsonObject[] {
  const props = once(properties);
  return leaves.map((l) => bodyPart(bytes, blobIds, l.part, l.path, props));
}

/** RFC 8621 §4.1.4 EmailBodyValue of a text part, cut to `maxBytes` UTF-8 octets (0: no cut). */
export function bodyValue(bytes: Uint8Array, p: MimePart, maxBytes: number): JsonObject {
  const raw = decodeBody(bytes, p);
  const charset = charsetOf(p);
  // An unknown transfer encoding, or bytes the charset cannot decode, is an encoding
  // problem (RFC 8621 §4.1.4); the value is then the best effort.
  let isEncodingProblem = raw === null;
  let value = decodeCharset(raw ?? bytes.subarray(p.bodyStart, p.bodyEnd), charset);
  if (value.includes("\ufffd")) isEncodingProblem = true;
  let isTruncated = false;
  if (maxBytes > 0) {
    const enc = new TextEncoder().encode(value);
    if (enc.byteLength > maxBytes) {
      let cut = maxBytes;
      while (cut > 0 && (enc[cut] & 0xc0) === 0x80) cut--; // never split a character
      value = dec.decode(enc.subarray(0, cut));
      isTruncated = true;
    }
  }
  return { value, isEncodingProblem, isTruncated };
}
