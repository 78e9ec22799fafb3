/**
 * BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 / RFC 3501 §7.4.2).
 *
 * Shape follows Dovecot. Choices, documented because clients see them:
 * - type, subtype, parameter names, transfer encoding and disposition type are sent
 *   lower-case (the parser normalises them; MIME says they are case-insensitive). For
 *   typical mail this is byte-for-byte what Dovecot sends (it keeps the message's case);
 *   the RFC examples' upper case is only illustration.
 * - text/* without a charset parameter gets `"charset" "us-ascii"` (RFC 2045 §5.2).
 * - a part without Content-Transfer-Encoding is `"7bit"` (RFC 2045 §6.1), whatever its
 *   octets or its parent's field say; so is a message that is not MIME (neither
 *   MIME-Version nor Content-Type, see `parser.ts`), whatever its field says.
 * - unquoted parameter values run to ";" (see `params.ts`), where Dovecot cuts them at the
 *   first space or tspecial.
 * - body size is the exact octet count of the body as BODY[section] returns it (Dovecot
 *   counts LF-only lines as CRLF; we store and serve the bytes as received).
 * - line counts are the number of LF-terminated lines in the body.
 * - RFC 2231 values that decode to non-ASCII are sent as `"name*" "charset'lang'%XX"`
 *   (as Dovecot does; imapflow and Thunderbird decode it), ASCII ones as plain params.
 * - a multipart with no parts gets one empty text/plain part (the grammar needs one);
 *   a multipart or message/rfc822 beyond the nesting cap is sent as application/octet-stream.
 * - message/global is sent as a basic body (IMAP4rev1 clients expect envelopes only in
 *   message/rfc822).
 *
 * @module
 */
import { envelope } from "./envelope.ts";
import { nstringNoLf, quoteImapString, type QuoteOptions } from "./quote.ts";
import type { MimeParam, MimePart } from "./types.ts";

const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE =
  '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

function params(list: readonly MimeParam[], defaultCharset: boolean, opts: QuoteOptions): string {
  const items: string[] = [];
  let charset = false;
  for (const p of list) {
    if (p.name === "charset") charset = true;
    if (p.extended !== undefined) {
      items.push(`${quoteImapString(p.name + "*", opts)} ${quoteImapString(p.extended, opts)}`);
    } else {
      items.push(`${quoteImapString(p.name, opts)} ${quoteImapString(p.value, opts)}`);
    }
  }
  if (defaultCharset && !charset) items.push('"charset" "us-ascii"');
  return items.length === 0 ? "NIL" : `(${items.join(" ")})`;
}

/** body-fld-dsp SP body-fld-lang SP body-fld-loc */
function common(part: MimePart, opts: QuoteOptions): string {
  const dsp = part.disposition === null
    ? "NIL"
    : `(${quoteImapString(part.disposition, opts)} ${params(part.dispositionParams, false, opts)})`;
  const lang = part.language === null
    ? "NIL"
    : `(${part.language.map((l) => quoteImapString(l, opts)).join(" ")})`;
  return `${dsp} ${lang} ${nstringNoLf(part.location, opts)}`;
}

function write(part: MimePart, ext: boolean, opts: QuoteOptions): string {
  if (part.kind === "multipart") {
    // RFC 9051 §7.5.2: body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    let s = "(";
    if (part.children.length === 0) s += ext ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
    for (const c of part.children) s += write(c, ext, opts);
    s += " " + quoteImapString(part.subtype, opts);
    if (ext) s += ` ${params(part.params, false, opts)} ${common(part, opts)}`;
    return s + ")";
  }
  let type = part.type, subtype = part.subtype;
  if (
    part.kind === "leaf" &&
    (type === "multipart" || (type === "message" && subtype === "rfc822"))
  ) {
    // Not parsed as a container (nesting or part cap): don't claim a structure we lack.
    type = "application";
    subtype = "octet-stream";
  }
  const text = type === "text";
  // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
  let s = `(${quoteImapString(type, opts)} ${quoteImapString(subtype, opts)} ${
    params(part.params, text, opts)
  } ${nstringNoLf(part.id, opts)} ${nstringNoLf(part.description, opts)} ${
    quoteImapString(part.encoding, opts)
  } ${part.bodyEnd - part.bodyStart}`;
  if (text) {
    // body-type-text: ... SP body-fld-lines
    s += ` ${part.lines}`;
  } else if (part.kind === "message" && part.embedded) {
    // body-type-msg: ... SP envelope SP body SP body-fld-lines
    s += ` ${envelope(part.embedded, opts)} ${write(part.embedded, ext, opts)} ${part.lines}`;
  }
  // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
  if (ext) s += ` ${nstringNoLf(part.md5, opts)} ${common(part, opts)}`;
  return s + ")";
}

/**
 * The BODY (`extensible` false) or BODYSTRUCTURE (`extensible` true) of a message or
 * part, parenthesised, ready to follow `BODYSTRUCTURE ` in a FETCH response.
 */
export function bodyStructure(
  part: MimePart,
  extensible: boolean,
  opts: QuoteOptions = {},
): string {
  return write(part, extensible, opts);
}
