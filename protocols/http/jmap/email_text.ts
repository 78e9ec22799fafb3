/**
 * The text conditions of Email/query (RFC 8621 §4.4.1: text, from, to, cc, bcc, subject,
 * body): case-insensitive substring matches over the decoded texts IMAP SEARCH uses
 * (mime/search_text.ts), so both protocols find the same messages.
 *
 * The store's full-text index narrows each condition to candidates, mailbox by mailbox (a
 * superset; a mailbox it cannot narrow gives all its messages); each candidate is then
 * read and checked. A message is read and parsed at most once per query.
 *
 * @module
 */
import { parseMime } from "../../../mime/mod.ts";
import { containsText } from "../../../lib/find_text.ts";
import { bodyText, fieldTexts, headerText } from "../../../mime/search_text.ts";
import type { Store, TextQuery } from "../../../storage/mod.ts";
import { type EmailEntry, readListedEmail } from "./account_view.ts";

/** A text condition's fields, and the part of the index that narrows it. */
export const TEXT_CONDITIONS: Readonly<Record<string, TextQuery["part"]>> = {
  text: "text",
  body: "body",
  from: "header",
  to: "header",
  cc: "header",
  bcc: "header",
  subject: "header",
};

/** One text condition of a filter; `matches` is filled by `resolveTextConditions`. */
export interface TextCondition {
  kind: string;
  /** Lower-cased. */
  needle: string;
  /** Blob ids of the Emails that match. */
  matches: Set<number>;
}

/** The texts of one message, computed when first asked for. */
class Texts {
  #header?: string;
  #body?: string;
  constructor(readonly bytes: Uint8Array, readonly root = parseMime(bytes)) {}
  get header(): string {
    return this.#header ??= headerText(this.root);
  }
  get body(): string {
    return this.#body ??= bodyText(this.bytes, this.root);
  }
  field(name: string): string[] {
    return fieldTexts(this.root, name);
  }
}

function test(c: TextCondition, t: Texts): boolean {
  switch (c.kind) {
    case "text":
      return containsText(t.header, c.needle) || containsText(t.body, c.needle);
    case "body":
      return containsText(t.body, c.needle);
    default:
      return t.field(c.kind).some((v) => containsText(v, c.needle));
  }
}

/** True when the message `bytes` matches every condition. */
export function matchesAll(bytes: Uint8Array, conditions: readonly TextCondition[]): boolean {
  const t = new Texts(bytes);
  return conditions.every((c) => test(c, t));
}

/** Fills each condition's `matches` among `emails`. */
export async function resolveTextConditions(
  store: Store,
  accountId: number,
  emails: ReadonlyMap<number, EmailEntry>,
  conditions: readonly TextCondition[],
): Promise<void> {
  if (conditions.length === 0) return;
  const byCopy = new Map<string, number>();
  const mailboxes = new Set<number>();
  for (const e of emails.values()) {
    for (const [mb, uid] of e.copies) {
      byCopy.set(`${mb}:${uid}`, e.blobId);
      mailboxes.add(mb);
    }
  }
  const texts = new Map<number, Texts>();
  for (const c of conditions) {
    const candidates = new Set<number>();
    for (const mb of mailboxes) {
      const uids = store.searchText
        ? await store.searchText(mb, { part: TEXT_CONDITIONS[c.kind], value: c.needle })
        : null;
      if (uids === null) {
        for (const e of emails.values()) if (e.mailboxIds.includes(mb)) candidates.add(e.blobId);
      } else {
        for (const uid of uids) {
          const blob = byCopy.get(`${mb}:${uid}`);
          if (blob !== undefined) candidates.add(blob);
        }
      }
    }
    for (const blob of candidates) {
      let t = texts.get(blob);
      if (!t) {
        const bytes = await readListedEmail(store, accountId, blob);
        if (bytes === null) continue; // destroyed since it was listed: matches nothing
        texts.set(blob, t = new Texts(bytes));
      }
      if (test(c, t)) c.matches.add(blob);
    }
  }
}
