/**
 * Builds an RFC 5322 message from an Email/set create object (RFC 8621 §4.6): header
 * properties, `headers`, `header:{name}[:asRaw|:asText]`, and the body either as
 * `bodyStructure` or as textBody/htmlBody/attachments (text and html become
 * multipart/alternative; attachments wrap that in multipart/mixed). Part contents come
 * from bodyValues (by partId) or from blobs of the account (by blobId).
 *
 * Invariants: every header line is ASCII (RFC 2047 encoded words for anything else); every
 * body is 7bit or base64, so the message is valid without 8BITMIME.
 *
 * @module
 */
import { SetFailure } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";

/** Reads a blob of the account (blob.ts readAccountBlob). */
export type BlobReader = (blobId: string) => Promise<{ data: Uint8Array; type: string } | null>;

const enc = new TextEncoder();
const CRLF = "\r\n";

/** Properties a client may not set on create (server-set, RFC 8621 §4.1). */
const SERVER_SET = ["id", "blobId", "threadId", "size", "preview", "hasAttachment"];
const HANDLED_ELSEWHERE = ["mailboxIds", "keywords", "receivedAt"];
const ADDRESS_HEADERS: Record<string, string> = {
  from: "From",
  sender: "Sender",
  to: "To",
  cc: "Cc",
  bcc: "Bcc",
  replyTo: "Reply-To",
};

const bad = (prop: string, why = `bad ${prop}`) =>
  new SetFailure("invalidProperties", why.slice(0, 200), [prop]);

/** RFC 2047 B-encoding of `s` when it is not printable ASCII, in words of ≤ 45 bytes. */
function encodeWords(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const words: string[] = [];
  let chunk = "";
  for (const ch of s) {
    if (enc.encode(chunk + ch).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${base64(enc.encode(w))}?=`).join(CRLF + " ");
}

function base64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Base64 in lines of 76 (RFC 2045 §6.8). */
function base64Lines(b: Uint8Array): string {
  return (base64(b).match(/.{1,76}/g) ?? []).join(CRLF);
}

const clean = (s: string) => s.replace(/[\r\n]+/g, " ");
const ADDR_SPEC = /^[^\s<>@,;:"()[\]\\]+@[^\s<>@,;:"()[\]\\]+$/;

/** A raw header value: one line of printable ASCII (raw forms are not encoded for us). */
function rawValue(v: string, prop: string): string {
  const one = clean(v).trim();
  if (!/^[\x20-\x7e\t]*$/.test(one) || one.length > 900) throw bad(prop, "raw values are ASCII");
  return one;
}

function address(v: unknown, prop: string): string {
  // An addr-spec with nothing that would split or quote it in the header.
  if (!isObject(v) || typeof v.email !== "string" || !ADDR_SPEC.test(v.email)) {
    throw bad(prop);
  }
  const name = typeof v.name === "string" ? clean(v.name) : "";
  if (!name) return v.email;
  const shown = /^[\x20-\x7e]*$/.test(name)
    ? `"${name.replace(/(["\\])/g, "\\$1")}"`
    : encodeWords(name);
  return `${shown} <${v.email}>`;
}

function addresses(v: unknown, prop: string): string {
  if (!Array.isArray(v)) throw bad(prop);
  return v.map((a) => address(a, prop)).join("," + CRLF + " ");
}

function messageIds(v: unknown, prop: string): string {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && /^[^\s<>]+$/.test(x))) {
    throw bad(prop);
  }
  return v.map((x) => `<${x}>`).join(CRLF + " ");
}

/** The header block of the create object (without the body's Content-* fields). */
function headerLines(obj: JsonObject, hostname: string): string[] {
  const lines: string[] = [];
  const has = new Set<string>();
  const add = (name: string, value: string) => {
    has.add(name.toLowerCase());
    lines.push(`${name}: ${value}`);
  };
  for (const [key, v] of Object.entries(obj)) {
    if (v === null || v === undefined) continue;
    if (SERVER_SET.includes(key)) throw bad(key, `${key} is set by the server`);
    if (ADDRESS_HEADERS[key]) add(ADDRESS_HEADERS[key], addresses(v, key));
    else if (key === "subject") {
      if (typeof v !== "string") throw bad(key);
      add("Subject", encodeWords(clean(v)));
    } else if (key === "sentAt") {
      const d = typeof v === "string" ? new Date(v) : null;
      if (!d || isNaN(d.getTime())) throw bad(key);
      add("Date", d.toUTCString().replace("GMT", "+0000"));
    } else if (key === "messageId") add("Message-ID", messageIds(v, key));
    else if (key === "inReplyTo") add("In-Reply-To", messageIds(v, key));
    else if (key === "references") add("References", messageIds(v, key));
    else if (key === "headers") {
      if (!Array.isArray(v)) throw bad(key);
      for (const h of v) {
        if (!isObject(h) || typeof h.name !== "string" || typeof h.value !== "string") {
          throw bad(key);
        }
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(h.name) || /^content-/i.test(h.name)) throw bad(key);
        add(h.name, rawValue(h.value, key));
      }
    } else if (key.startsWith("header:")) {
      const [, name, form, extra] = key.split(":");
      if (!name || extra !== undefined || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw bad(key);
      if (/^content-/i.test(name) || typeof v !== "string") throw bad(key);
      if (form === undefined || form === "asRaw") add(name, rawValue(v, key));
      else if (form === "asText") add(name, encodeWords(clean(v)));
      else throw bad(key);
    } else if (
      !HANDLED_ELSEWHERE.includes(key) &&
      !["bodyStructure", "bodyValues", "textBody", "htmlBody", "attachments"].includes(key)
    ) {
      throw bad(key, `unknown property ${key}`);
    }
  }
  if (!has.has("date")) add("Date", new Date().toUTCString().replace("GMT", "+0000"));
  if (!has.has("message-id")) add("Message-ID", `<${crypto.randomUUID()}@${hostname}>`);
  add("MIME-Version", "1.0");
  return lines;
}

/** One MIME entity: its Content-* header lines and its encoded body. */
interface Entity {
  headers: string[];
  body: string;
}

function param(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `; ${name}="${value.replace(/(["\\])/g, "\\$1")}"`;
  // RFC 2231 for non-ASCII parameter values.
  return `; ${name}*=UTF-8''${encodeURIComponent(value)}`;
}

async function leaf(
  p: JsonObject,
  values: JsonObject,
  readBlob: BlobReader,
  prop: string,
): Promise<Entity> {
  let data: Uint8Array;
  let type = typeof p.type === "string" ? p.type.toLowerCase() : null;
  if (type !== null && !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) throw bad(prop);
  let text = false;
  if (typeof p.partId === "string") {
    const v = values[p.partId];
    if (!isObject(v) || typeof v.value !== "string" || v.isTruncated === true) {
      throw bad("bodyValues", `no body value for part ${p.partId.slice(0, 40)}`);
    }
    data = enc.encode(v.value.replace(/\r?\n/g, "\r\n"));
    type ??= "text/plain";
    if (!type.startsWith("text/")) throw bad(prop, "a partId part must be text");
    text = true;
  } else if (typeof p.blobId === "string") {
    const blob = await readBlob(p.blobId);
    if (!blob) throw new SetFailure("blobNotFound", `no blob ${p.blobId.slice(0, 40)}`);
    data = blob.data;
    type ??= blob.type.toLowerCase();
  } else {
    throw bad(prop, "a part needs a partId or a blobId");
  }
  let ct = type;
  if (text) ct += "; charset=utf-8";
  else if (typeof p.charset === "string" && /^[\w.:-]+$/.test(p.charset)) {
    ct += `; charset=${p.charset}`;
  }
  const name = typeof p.name === "string" ? clean(p.name) : null;
  if (name) ct += param("name", name);
  const headers = [`Content-Type: ${ct}`];
  const disposition = typeof p.disposition === "string" ? p.disposition.toLowerCase() : null;
  if (disposition && !/^[a-z-]+$/.test(disposition)) throw bad(prop);
  if (disposition || name) {
    headers.push(
      `Content-Disposition: ${disposition ?? "attachment"}${name ? param("filename", name) : ""}`,
    );
  }
  if (typeof p.cid === "string" && /^[^\s<>]+$/.test(p.cid)) headers.push(`Content-ID: <${p.cid}>`);
  const str = new TextDecoder().decode(data);
  // RFC 2046 §5.2.1: a message/rfc822 part should not be base64; a 7-bit one goes as is.
  const asIs = text || type === "message/rfc822";
  const sevenBit = asIs && data.every((b) => b < 0x80 && b !== 0) &&
    str.split("\r\n").every((l) => l.length <= 998 && !l.includes("\r") && !l.includes("\n"));
  if (sevenBit) return { headers: [...headers, "Content-Transfer-Encoding: 7bit"], body: str };
  return { headers: [...headers, "Content-Transfer-Encoding: base64"], body: base64Lines(data) };
}

function multipart(subtype: string, parts: Entity[]): Entity {
  const boundary = `=_${crypto.randomUUID()}`;
  const body =
    parts.map((p) => `--${boundary}${CRLF}${p.headers.join(CRLF)}${CRLF}${CRLF}${p.body}${CRLF}`)
      .join("") + `--${boundary}--${CRLF}`;
  return { headers: [`Content-Type: multipart/${subtype}; boundary="${boundary}"`], body };
}

async function structure(
  p: unknown,
  values: JsonObject,
  readBlob: BlobReader,
  depth: number,
): Promise<Entity> {
  if (!isObject(p) || depth > 20) throw bad("bodyStructure");
  if (typeof p.type === "string" && p.type.toLowerCase().startsWith("multipart/")) {
    const sub = p.type.toLowerCase().slice(10);
    if (!/^[a-z0-9-]+$/.test(sub) || !Array.isArray(p.subParts)) throw bad("bodyStructure");
    const parts = [];
    for (const s of p.subParts) parts.push(await structure(s, values, readBlob, depth + 1));
    return multipart(sub, parts);
  }
  return await leaf(p, values, readBlob, "bodyStructure");
}

async function fromLists(
  obj: JsonObject,
  values: JsonObject,
  readBlob: BlobReader,
): Promise<Entity> {
  const list = (name: string, max: number): JsonObject[] => {
    const v = obj[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.length > max || !v.every(isObject)) throw bad(name);
    return v as JsonObject[];
  };
  const textBody = list("textBody", 1);
  const htmlBody = list("htmlBody", 1);
  const attachments = list("attachments", 1000);
  const alternatives: Entity[] = [];
  for (const p of textBody) {
    alternatives.push(await leaf({ type: "text/plain", ...p }, values, readBlob, "textBody"));
  }
  for (const p of htmlBody) {
    alternatives.push(await leaf({ type: "text/html", ...p }, values, readBlob, "htmlBody"));
  }
  let body: Entity = alternatives.length === 2
    ? multipart("alternative", alternatives)
    : alternatives[0] ??
      {
        headers: ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit"],
        body: "",
      };
  if (attachments.length > 0) {
    const parts = [body];
    for (const a of attachments) parts.push(await leaf(a, values, readBlob, "attachments"));
    body = multipart("mixed", parts);
  }
  return body;
}

/** The message bytes of a create object (throws SetFailure). */
export async function buildEmail(
  obj: JsonObject,
  readBlob: BlobReader,
  hostname: string,
): Promise<Uint8Array> {
  const head = headerLines(obj, hostname);
  const values = obj.bodyValues ?? {};
  if (!isObject(values)) throw bad("bodyValues");
  const hasLists = ["textBody", "htmlBody", "attachments"].some((k) => obj[k] != null);
  if (obj.bodyStructure != null && hasLists) {
    throw bad("bodyStructure", "bodyStructure excludes textBody, htmlBody and attachments");
  }
  const body = obj.bodyStructure != null
    ? await structure(obj.bodyStructure, values, readBlob, 0)
    : await fromLists(obj, values, readBlob);
  return enc.encode([...head, ...body.headers].join(CRLF) + CRLF + CRLF + body.body);
}
