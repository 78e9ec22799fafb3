/**
 * The searchable text of a message (IMAP SEARCH, RFC 9051 §6.4.4), in one place for both
 * sides: the IMAP evaluator matches against these strings, and a backend's full-text index
 * stores them. Keeping one definition is what makes an index a safe pre-filter: every
 * substring the evaluator can find is in the indexed text.
 *
 * All strings are lower-cased (`toLowerCase`, the case folding of SEARCH), with RFC 2047
 * encoded words, transfer encodings and charsets decoded. Pure: no I/O.
 *
 * @module
 */
import {
  charsetOf,
  decodeBody,
  decodeCharset,
  decodeEncodedWords,
  type MimePart,
  parseAddressList,
} from "./mod.ts";

/** Fields holding address lists (RFC 5322 §3.6.2, §3.6.3), searched address by address. */
export const ADDRESS_FIELDS: ReadonlySet<string> = new Set([
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
]);

/** Nesting and part count the body text walks (bounded work on hostile mail). */
const MAX_DEPTH = 20;
const MAX_TEXTS = 100;

/**
 * Decoded, lower-cased values of one header field (`name` lower-case). Address fields read
 * as their addresses (`name <local@domain>`, group names), comments and routes left out, as
 * Dovecot does: "user@domain" finds `<user (c)@ (c) domain>`, "realname" finds `(RealName)`.
 */
export function fieldTexts(root: MimePart, name: string): string[] {
  const fields = root.headers.filter((f) => f.lname === name);
  if (!ADDRESS_FIELDS.has(name)) {
    return fields.map((f) => decodeEncodedWords(f.value).toLowerCase());
  }
  const out: string[] = [];
  for (const f of fields) {
    const addrs = parseAddressList(f.value);
    if (addrs.length === 0) out.push(decodeEncodedWords(f.value).toLowerCase());
    for (const a of addrs) {
      if (a.mailbox === null) continue; // group end
      const text = a.host === null
        ? a.mailbox // group start: its name
        : `${a.name ? decodeEncodedWords(a.name) + " " : ""}<${a.mailbox}@${a.host}>`;
      out.push(text.toLowerCase());
    }
  }
  return out;
}

/** The whole header as `name: value` lines, encoded words decoded, lower-cased. */
export function headerText(root: MimePart): string {
  return root.headers.map((f) => `${f.name}: ${decodeEncodedWords(f.value)}`).join("\n")
    .toLowerCase();
}

/**
 * The text parts of the body, transfer- and charset-decoded, with the headers of embedded
 * messages, lower-cased. A body that is not MIME counts as text.
 */
export function bodyText(bytes: Uint8Array, root: MimePart): string {
  const texts: string[] = [];
  const walk = (p: MimePart, depth: number) => {
    if (depth > MAX_DEPTH || texts.length > MAX_TEXTS) return;
    if (p.kind === "multipart") {
      for (const c of p.children) walk(c, depth + 1);
    } else if (p.kind === "message" && p.embedded) {
      texts.push(
        p.embedded.headers.map((f) => `${f.name}: ${decodeEncodedWords(f.value)}`).join("\n"),
      );
      walk(p.embedded, depth + 1);
    } else if (p.type === "text" || p === root) {
      const data = decodeBody(bytes, p) ?? bytes.subarray(p.bodyStart, p.bodyEnd);
      texts.push(decodeCharset(data, charsetOf(p)));
    }
  };
  walk(root, 0);
  return texts.join("\n").toLowerCase();
}

/**
 * What a full-text index stores for the header: every line of `headerText` plus every
 * address as `fieldTexts` reads it, so any header key's match is inside it.
 */
export function indexedHeaderText(root: MimePart): string {
  const parts = [headerText(root)];
  const seen = new Set<string>();
  for (const f of root.headers) {
    if (!ADDRESS_FIELDS.has(f.lname) || seen.has(f.lname)) continue;
    seen.add(f.lname);
    parts.push(...fieldTexts(root, f.lname));
  }
  return parts.join("\n");
}
