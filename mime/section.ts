/**
 * BODY[section] extraction (RFC 9051 §6.4.5): part numbering and exact bytes.
 *
 * @module
 */
import { concatBytes } from "../lib/bytes.ts";
import type { MimePart, SectionSpec } from "./types.ts";

const CRLF = new Uint8Array([13, 10]);

/** A resolved part path: the node, and whether it stands for a message (root/embedded). */
interface Resolved {
  node: MimePart;
  /** True for the top-level message (empty path). */
  message: boolean;
}

/**
 * Finds the part a path names. RFC 9051 §6.4.5: multipart children are numbered from 1; a
 * message that is not multipart has only part 1 (its body); a message/rfc822 part's
 * numbers continue into the encapsulated message (`3.1` is part 1 of that message).
 */
function resolve(root: MimePart, path: readonly number[]): Resolved | null {
  if (path.length === 0) return { node: root, message: true };
  let cur = root;
  let inMessage = true; // cur is a message (root or embedded), not yet a body part
  for (const n of path) {
    if (!Number.isInteger(n) || n < 1) return null;
    if (!inMessage) {
      if (cur.kind === "message" && cur.embedded) {
        cur = cur.embedded;
        inMessage = true;
      } else if (cur.kind === "multipart") {
        const c = cur.children[n - 1];
        if (!c) return null;
        cur = c;
        continue;
      } else {
        return null;
      }
    }
    // cur is a message here.
    if (cur.kind === "multipart") {
      const c = cur.children[n - 1];
      if (!c) return null;
      cur = c;
    } else if (n !== 1) {
      return null;
    }
    inMessage = false;
  }
  return { node: cur, message: false };
}

/** The part a path names (`[]` is the message itself), or null when it does not exist. */
export function findPart(root: MimePart, path: readonly number[]): MimePart | null {
  return resolve(root, path)?.node ?? null;
}

/** The header bytes of `msg` keeping (or dropping, with `not`) the named fields. */
function headerFields(
  bytes: Uint8Array,
  msg: MimePart,
  fields: readonly string[],
  not: boolean,
): Uint8Array {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const chunks: Uint8Array[] = [];
  if (not) {
    // Everything but the named fields, byte-exact (continuations and blank line kept).
    let pos = msg.headerStart;
    for (const f of msg.headers) {
      if (!wanted.has(f.lname)) continue;
      if (f.start > pos) chunks.push(bytes.subarray(pos, f.start));
      pos = f.end;
    }
    chunks.push(bytes.subarray(pos, msg.headerEnd));
    return concatBytes(chunks);
  }
  for (const f of msg.headers) {
    if (!wanted.has(f.lname)) continue;
    chunks.push(bytes.subarray(f.start, f.end));
    // A last field without its line ending still needs one before the blank line.
    if (bytes[f.end - 1] !== 10) chunks.push(CRLF);
  }
  // RFC 9051 §6.4.5: the blank line is always included, unless the message has none.
  if (msg.headerSeparator > 0) {
    chunks.push(bytes.subarray(msg.headerEnd - msg.headerSeparator, msg.headerEnd));
  }
  return concatBytes(chunks);
}

/**
 * The exact bytes of a section per RFC 9051 §6.4.5, or null when the section does not
 * exist (the server then returns an empty string or NIL as it sees fit):
 * - `[]` with no text: the whole message; HEADER / TEXT / HEADER.FIELDS[.NOT] of a path
 *   refer to the message encapsulated by that message/rfc822 part;
 * - a path alone: that part's body (for message/rfc822, the whole encapsulated message);
 * - MIME (path required): the part's own header, blank line included.
 *
 * Returns a view into `bytes` when the section is contiguous, else a new array.
 */
export function sectionBytes(
  bytes: Uint8Array,
  root: MimePart,
  spec: SectionSpec,
): Uint8Array | null {
  const r = resolve(root, spec.part);
  if (!r) return null;
  const part = r.node;
  if (spec.text === undefined) {
    return r.message
      ? bytes.subarray(0, bytes.length)
      : bytes.subarray(part.bodyStart, part.bodyEnd);
  }
  if (spec.text === "MIME") {
    if (r.message) return null; // RFC 9051 §6.4.5: MIME needs a part number
    return bytes.subarray(part.headerStart, part.headerEnd);
  }
  let msg: MimePart;
  if (r.message) msg = part;
  else if (part.kind === "message" && part.embedded) msg = part.embedded;
  else return null; // HEADER/TEXT only exist for messages
  switch (spec.text) {
    case "HEADER":
      return bytes.subarray(msg.headerStart, msg.headerEnd);
    case "TEXT":
      return bytes.subarray(msg.bodyStart, msg.bodyEnd);
    case "HEADER.FIELDS":
      return headerFields(bytes, msg, spec.fields ?? [], false);
    case "HEADER.FIELDS.NOT":
      return headerFields(bytes, msg, spec.fields ?? [], true);
  }
  return null;
}
