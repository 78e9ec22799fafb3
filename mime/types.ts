/**
 * Types of the MIME tree produced by {@link parseMime}.
 *
 * Invariants every {@link MimePart} keeps (checked by the property tests):
 * `0 <= headerStart <= headerEnd == bodyStart <= bodyEnd <= bytes.length`, children lie in
 * order inside their parent's body, and an `embedded` message spans exactly its part's body.
 *
 * @module
 */
import type { HeaderField } from "./header.ts";

/** A Content-Type or Content-Disposition parameter, RFC 2231 continuations merged. */
export interface MimeParam {
  /** Attribute name, lower-cased, without RFC 2231 `*` / `*N` suffixes. */
  name: string;
  /** Value: quoted-string unescaped; RFC 2231 percent-decoding and charset applied. */
  value: string;
  /**
   * RFC 2231 wire form `charset'language'%XX...` when the value came in extended
   * notation; BODYSTRUCTURE sends it as `name*` when the decoded value is not ASCII.
   */
  extended?: string;
}

/** How a part's body is structured. */
export type PartKind =
  /** A body that is not parsed further. */
  | "leaf"
  /** multipart/*: `children` holds the body parts (possibly none for broken mail). */
  | "multipart"
  /** message/rfc822: `embedded` holds the encapsulated message. */
  | "message";

/** One node of the MIME tree. All offsets index the original message bytes. */
export interface MimePart {
  /** Offset of the first header byte. */
  headerStart: number;
  /** Offset just after the blank line ending the header (or where the header stopped). */
  headerEnd: number;
  /** Length of the blank line that ends the header: 2 (CRLF), 1 (LF) or 0 (none). */
  headerSeparator: number;
  /** Offset of the first body byte (always equal to `headerEnd`). */
  bodyStart: number;
  /** Offset just after the last body byte (the CRLF before a boundary is not body). */
  bodyEnd: number;
  /** Header fields in message order (at most {@link MAX_FIELDS} are kept). */
  headers: HeaderField[];
  /** Media type, lower-cased; `text` by default (RFC 2045 §5.2). */
  type: string;
  /** Media subtype, lower-cased; `plain` by default. */
  subtype: string;
  /** Content-Type parameters in header order. */
  params: MimeParam[];
  /** Whether a syntactically valid Content-Type field was present. */
  hasContentType: boolean;
  /** Content-Transfer-Encoding, lower-cased; `7bit` when absent or invalid (RFC 2045 §6.1). */
  encoding: string;
  /** Content-ID (unfolded), or null. */
  id: string | null;
  /** Content-Description (unfolded, not RFC 2047-decoded), or null. */
  description: string | null;
  /** Content-MD5, or null. */
  md5: string | null;
  /** Content-Location (RFC 2557), or null. */
  location: string | null;
  /** Content-Disposition type, lower-cased (RFC 2183), or null. */
  disposition: string | null;
  /** Content-Disposition parameters. */
  dispositionParams: MimeParam[];
  /** Content-Language tags (RFC 3282), or null. */
  language: string[] | null;
  /** Number of LF-terminated lines in the body. */
  lines: number;
  /** How the body is structured. */
  kind: PartKind;
  /** Body parts of a multipart. */
  children: MimePart[];
  /** The encapsulated message of a message/rfc822 part. */
  embedded: MimePart | null;
  /** Nesting depth: 0 for the message itself. */
  depth: number;
}

/** An IMAP section specifier (RFC 9051 §6.4.5), already parsed by the IMAP parser. */
export interface SectionSpec {
  /** Part path, e.g. `[4, 2, 1]` for `4.2.1`; empty for the whole message. */
  part: number[];
  /** The section text, if any. */
  text?: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT (any case). */
  fields?: string[];
}

/** Header fields kept per part; later ones still count as header bytes but are not indexed. */
export const MAX_FIELDS = 10_000;
/** Containers nested deeper than this are treated as leaves. */
export const MAX_DEPTH = 50;
/** Parts created per message; further multipart bodies are not split. */
export const MAX_PARTS = 10_000;
