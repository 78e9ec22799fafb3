/**
 * MIME for denomail: a tree with exact byte offsets, and the IMAP views of it
 * (ENVELOPE, BODY/BODYSTRUCTURE, BODY[section], BINARY[section]).
 *
 * A pure library: no I/O, never throws on message content, bounded work (linear in the
 * message size; nesting capped at {@link MAX_DEPTH}, parts at {@link MAX_PARTS}).
 *
 * Conventions (Dovecot's where the RFCs leave room; details in each file's docs):
 * - header text is UTF-8, else windows-1252; ENVELOPE strings are the raw unfolded values
 *   (encoded words are the client's job), subject and names with white space collapsed;
 * - BODYSTRUCTURE sends type/subtype/encoding/parameter names lower-case, sizes as exact
 *   octets of the stored bytes, line counts as LFs, `"charset" "us-ascii"` for text/*
 *   without a charset, RFC 2231 non-ASCII values as `name*` in extended form;
 * - strings that cannot be quoted (CR, LF, 8-bit without UTF8=ACCEPT) become literals.
 *
 * ```ts
 * import { bodyStructure, envelope, parseMime, sectionBytes } from "../mime/mod.ts";
 * const root = parseMime(bytes);
 * `ENVELOPE ${envelope(root)} BODYSTRUCTURE ${bodyStructure(root, true)}`;
 * sectionBytes(bytes, root, { part: [1], text: "MIME" });
 * ```
 *
 * A leaf library every layer may use (storage for its search index, protocols for IMAP
 * views, plugins through the SDK). May import only `lib/` and npm packages.
 *
 * @module
 */
import { findField } from "./header.ts";
import type { MimePart } from "./types.ts";

export { parseMime, type ParseOptions } from "./parser.ts";
export { HeaderField, unfold } from "./header.ts";
export { decodeEncodedWords } from "./encoded_words.ts";
export { envelope } from "./envelope.ts";
export { bodyStructure } from "./bodystructure.ts";
export { findPart, sectionBytes } from "./section.ts";
export { decodeBase64, decodeBody, decodeQuotedPrintable } from "./decode.ts";
export { humanString, nstring, quoteImapString, type QuoteOptions } from "./quote.ts";
export { type EnvelopeAddress, parseAddressList } from "./address.ts";
export { paramValue, parseContentType } from "./params.ts";
export { decodeCharset } from "./text.ts";
export {
  MAX_DEPTH,
  MAX_FIELDS,
  MAX_PARTS,
  type MimeParam,
  type MimePart,
  type PartKind,
  type SectionSpec,
} from "./types.ts";

/**
 * The unfolded value of the first header field named `name` (any case), or null.
 * Encoded words are not decoded: wrap in {@link decodeEncodedWords} for display/search.
 */
export function headerValue(part: MimePart, name: string): string | null {
  return findField(part.headers, name)?.value ?? null;
}

/** The unfolded values of every header field named `name` (any case), in order. */
export function headerValues(part: MimePart, name: string): string[] {
  const l = name.toLowerCase();
  return part.headers.filter((f) => f.lname === l).map((f) => f.value);
}

/** The charset of a text part: its parameter, or `us-ascii` (RFC 2045 §5.2). */
export function charsetOf(part: MimePart): string {
  for (const p of part.params) if (p.name === "charset") return p.value;
  return "us-ascii";
}
