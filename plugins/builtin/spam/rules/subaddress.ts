/**
 * RCPT_TAGGED_FOR_SENDER: the recipient's address carries a tag (RFC 5233 subaddress,
 * `user+tag` or `user-tag`) that names the sender — its display name or its organisation —
 * as people give a service an address made for it (`jm-zdnet@...` for ZDNet's mailings).
 * Only someone the user gave that address to writes to it under that name; a spam run
 * that bought or scraped the address writes under its own. On the development split: 38 %
 * of hard ham (newsletters), 2.2 % of easy ham (mailing lists), 0 % of spam.
 *
 * @module
 */
import type { ParsedMail } from "../parse.ts";
import { addressesIn, orgDomain } from "./headers.ts";
import { hit, type RuleHit } from "./table.ts";
import { splitMailbox } from "../../../../mime/address.ts";

/** Words of a tag that can name a sender: 4 or more letters. */
function tagWords(address: string): string[] {
  const local = splitMailbox(address.toLowerCase())?.local ?? "";
  const at = local.search(/[+-]/);
  if (at < 1) return [];
  return local.slice(at + 1).split(/[^a-z]+/).filter((w) => w.length >= 4);
}

/**
 * Header text looked at: a tag or a sender's name is in the first few hundred characters,
 * and a bound keeps the patterns below linear on a crafted megabyte-long field.
 */
const MAX_FIELD = 2000;

/** The addresses of To, Cc and Delivered-To (when the envelope is not known). */
function headerRecipients(m: ParsedMail): string[] {
  const fields = ["to", "cc", "delivered-to"].map((f) => (m.header(f) ?? "").slice(0, MAX_FIELD));
  return addressesIn(fields.join(","));
}

/** The words a sender goes by: its display name and the name of its organisation. */
function senderNames(m: ParsedMail): Set<string> {
  const from = (m.header("from") ?? "").slice(0, MAX_FIELD).toLowerCase();
  const shown = from.replace(/<[^>]*>/g, " ").replace(/[^\s@]+@[^\s]+/g, " ");
  const names = new Set(shown.split(/[^a-z]+/).filter((w) => w.length >= 4));
  const domain = splitMailbox(m.fromAddress.toLowerCase())?.domain;
  if (domain) {
    const org = orgDomain(domain);
    const label = org.slice(0, org.indexOf(".") < 0 ? org.length : org.indexOf("."));
    for (const w of label.split(/[^a-z]+/)) if (w.length >= 4) names.add(w);
  }
  return names;
}

/** The rule, with the envelope recipients when known (the server), else the header's. */
export function subaddressRules(
  m: ParsedMail,
  recipients: string[] | undefined,
  scores: Record<string, number>,
): RuleHit[] {
  const to = recipients && recipients.length > 0 ? recipients : headerRecipients(m);
  const from = m.fromAddress.toLowerCase();
  const names = senderNames(m);
  if (names.size === 0) return [];
  const tagged = to.some((r) => r.toLowerCase() !== from && tagWords(r).some((w) => names.has(w)));
  return tagged ? [hit("RCPT_TAGGED_FOR_SENDER", scores)] : [];
}
