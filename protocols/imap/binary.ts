/**
 * Binary content arriving by APPEND (RFC 3516 §4.4, literal8): parts whose body holds NUL
 * octets are stored base64-encoded, so every BODY[...] answer stays a valid IMAP4rev1
 * literal (RFC 9051 §4.3: no NUL in a literal) while BINARY[...] still returns the original
 * octets (RFC 3516 §4.2 decodes the transfer encoding). Dovecot does the same.
 *
 * Pure: no I/O.
 *
 * @module
 */
import { type MimePart, parseMime } from "../../mime/mod.ts";
import { concatBytes } from "../../lib/bytes.ts";

const enc = new TextEncoder();
/** Identity encodings (RFC 2045 §6.2): the body is the content. */
const IDENTITY = new Set(["7bit", "8bit", "binary"]);
/** RFC 2045 §6.8: encoded lines are at most 76 characters. */
const LINE = 76;

/** One replacement of the bytes [start, end). */
interface Edit {
  start: number;
  end: number;
  with: Uint8Array;
}

/**
 * The message with each NUL-holding identity-encoded leaf part turned into base64 (its
 * Content-Transfer-Encoding field replaced or added); the same array when nothing holds NUL.
 */
export function encodeBinaryParts(bytes: Uint8Array): Uint8Array {
  if (!bytes.includes(0)) return bytes;
  const edits: Edit[] = [];
  const walk = (p: MimePart) => {
    if (p.kind === "multipart") { for (const c of p.children) walk(c); }
    else if (p.kind === "message" && p.embedded) walk(p.embedded);
    else if (IDENTITY.has(p.encoding)) {
      const body = bytes.subarray(p.bodyStart, p.bodyEnd);
      if (!body.includes(0)) return;
      const eol = p.headerSeparator === 1 ? "\n" : "\r\n";
      const field = p.headers.find((f) => f.lname === "content-transfer-encoding");
      // A message that is not MIME ignores the field (RFC 2045 §4, see mime/parser.ts):
      // make it MIME, or BINARY would return the base64 text.
      const mime = p.headers.some((f) => f.lname === "mime-version" || f.lname === "content-type");
      const cte = enc.encode(
        `${mime ? "" : `MIME-Version: 1.0${eol}`}Content-Transfer-Encoding: base64${eol}`,
      );
      if (field) edits.push({ start: field.start, end: field.end, with: cte });
      else {
        const at = p.headerEnd - p.headerSeparator;
        edits.push({ start: at, end: at, with: cte });
      }
      edits.push({ start: p.bodyStart, end: p.bodyEnd, with: base64Lines(body, eol) });
    }
  };
  walk(parseMime(bytes));
  if (edits.length === 0) return bytes; // NUL only in a header, or in an encoded part
  edits.sort((a, b) => a.start - b.start);
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const e of edits) {
    out.push(bytes.subarray(pos, e.start), e.with);
    pos = e.end;
  }
  out.push(bytes.subarray(pos));
  return concatBytes(out);
}

/** Base64 of `data` in lines of 76 characters, each but the last ended by `eol`. */
function base64Lines(data: Uint8Array, eol: string): Uint8Array {
  let s = "";
  const CHUNK = 3 * 1024;
  for (let i = 0; i < data.length; i += CHUNK) {
    s += String.fromCharCode(...data.subarray(i, i + CHUNK));
  }
  const b64 = btoa(s);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += LINE) lines.push(b64.slice(i, i + LINE));
  return enc.encode(lines.join(eol));
}
