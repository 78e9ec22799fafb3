/**
 * Header field forms (RFC 8621 §4.1.2) and the `header:{name}[:as{Form}][:all]` properties
 * (§4.1.3). Without `:all` the last field of that name counts; with it, all in order.
 *
 * Pure: the MIME tree in, JSON values out; never throws on message content (an unparseable
 * value is null, §4.1.2).
 *
 * @module
 */
import {
  decodeEncodedWords,
  type HeaderField,
  type MimePart,
  parseAddressList,
} from "../../../mime/mod.ts";

export type Form =
  | "Raw"
  | "Text"
  | "Addresses"
  | "GroupedAddresses"
  | "MessageIds"
  | "Date"
  | "URLs";
/** Every form, in RFC 8621 §4.1.2's order. */
export const FORMS: readonly Form[] = [
  "Raw",
  "Text",
  "Addresses",
  "GroupedAddresses",
  "MessageIds",
  "Date",
  "URLs",
];

export interface EmailAddress {
  name: string | null;
  email: string;
}

const ADDRESS = ["from", "sender", "reply-to", "to", "cc", "bcc"];
/** RFC 8621 §4.1.2: the forms known fields may be read in (unknown fields: any). */
const ALLOWED: Record<string, readonly Form[]> = {
  ...Object.fromEntries(
    [...ADDRESS, ...ADDRESS.map((f) => `resent-${f}`)].map((
      f,
    ) => [f, ["Raw", "Addresses", "GroupedAddresses"] as Form[]]),
  ),
  ...Object.fromEntries(
    ["message-id", "in-reply-to", "references", "resent-message-id"].map((
      f,
    ) => [f, ["Raw", "MessageIds"] as Form[]]),
  ),
  ...Object.fromEntries(["date", "resent-date"].map((f) => [f, ["Raw", "Date"] as Form[]])),
  ...Object.fromEntries(
    ["list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive"]
      .map((f) => [f, ["Raw", "URLs"] as Form[]]),
  ),
  ...Object.fromEntries(
    ["subject", "comments", "keywords", "list-id"].map((f) => [f, ["Raw", "Text"] as Form[]]),
  ),
};

/** A parsed `header:` property. */
export interface HeaderProperty {
  /** Lower-cased field name. */
  lname: string;
  form: Form;
  all: boolean;
}

/**
 * Parses `header:{name}[:as{Form}][:all]`; null when `prop` is not a valid header property
 * (bad name, unknown form, or a form the field does not allow).
 */
export function parseHeaderProperty(prop: string): HeaderProperty | null {
  if (!prop.startsWith("header:") || prop.length > 300) return null;
  const parts = prop.slice(7).split(":");
  const name = parts.shift()!;
  // RFC 5322 §3.6.8 field-name: printable US-ASCII except ":".
  if (!/^[!-9;-~]+$/.test(name)) return null;
  let all = false;
  if (parts.at(-1) === "all") {
    all = true;
    parts.pop();
  }
  let form: Form = "Raw";
  if (parts.length === 1 && parts[0].startsWith("as")) {
    const f = parts[0].slice(2) as Form;
    if (!FORMS.includes(f)) return null;
    form = f;
  } else if (parts.length !== 0) {
    return null;
  }
  const lname = name.toLowerCase();
  const allowed = ALLOWED[lname];
  if (allowed && !allowed.includes(form)) return null;
  return { lname, form, all };
}

/** The value of a header property for a message (or part). */
export function headerProperty(root: MimePart, p: HeaderProperty): unknown {
  const fields = root.headers.filter((f) => f.lname === p.lname);
  if (p.all) return fields.map((f) => fieldAs(f, p.form));
  const last = fields.at(-1);
  return last ? fieldAs(last, p.form) : null;
}

const dec = new TextDecoder();

/** One field in one form (RFC 8621 §4.1.2.1–4.1.2.7). */
export function fieldAs(f: HeaderField, form: Form): unknown {
  switch (form) {
    case "Raw":
      return dec.decode(f.raw);
    case "Text":
      return decodeEncodedWords(f.value).trim();
    case "Addresses":
      return groupedAddresses(f.value).flatMap((g) => g.addresses);
    case "GroupedAddresses":
      return groupedAddresses(f.value);
    case "MessageIds": {
      const ids = [...f.value.matchAll(/<([^<>\s]{1,998})>/g)].map((m) => m[1]);
      return ids.length ? ids : null;
    }
    case "Date": {
      // Date.parse reads RFC 5322 dates; comments such as "(UTC)" are dropped first.
      const t = Date.parse(f.value.replace(/\([^()]*\)/g, " ").trim());
      return Number.isFinite(t) ? utcDate(t) : null;
    }
    case "URLs": {
      const urls = [...f.value.matchAll(/<([^<>\s]{1,2000})>/g)].map((m) => m[1]);
      return urls.length ? urls : null;
    }
  }
}

/** RFC 8621 §4.1.2.4: the address list with its groups (ungrouped runs: name null). */
function groupedAddresses(
  value: string,
): Array<{ name: string | null; addresses: EmailAddress[] }> {
  const out: Array<{ name: string | null; addresses: EmailAddress[] }> = [];
  let group: { name: string | null; addresses: EmailAddress[] } | null = null;
  let inGroup = false;
  for (const a of parseAddressList(value)) {
    if (a.host === null && a.mailbox !== null) { // group start
      out.push(group = { name: decodeEncodedWords(a.mailbox).trim(), addresses: [] });
      inGroup = true;
    } else if (a.host === null) { // group end
      group = null;
      inGroup = false;
    } else {
      if (!group || (!inGroup && group.name !== null)) {
        out.push(group = { name: null, addresses: [] });
      }
      const name = a.name === null ? null : decodeEncodedWords(a.name).trim() || null;
      group.addresses.push({ name, email: `${a.mailbox}@${a.host}` });
    }
  }
  return out;
}

/** RFC 8620 §1.4 UTCDate: "2014-10-30T14:12:00Z" (no fraction of a second when zero). */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}
