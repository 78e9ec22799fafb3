/**
 * One account's mailboxes and messages as JMAP sees them, read through the Store.
 *
 * An Email is a stored message (a blob) of the account: its copies in several mailboxes
 * are one Email whose mailboxIds name them all (RFC 8621 §4.1.1), and its keywords are the
 * union of the copies' flags. Only this account's mailboxes are read, so a blob delivered
 * to several accounts is found only in the caller's own.
 *
 * Reads go by what a method needs: the copies of given Emails or Threads (an index by blob
 * and by thread), or every copy of the account (queries that no index answers).
 *
 * @module
 */
import {
  type EmailCopy,
  type Mailbox,
  type MailboxStatus,
  type Store,
  StoreError,
} from "../../../storage/mod.ts";
import { readSortOrders } from "./sort_order.ts";

/** One Email of the account. */
export interface EmailEntry {
  blobId: number;
  /** Storage ids of the mailboxes holding a copy. */
  mailboxIds: number[];
  /** Every copy as [mailbox id, UID] (what the full-text index answers in). */
  copies: Array<[number, number]>;
  /** Union of the copies' IMAP flags. */
  flags: Set<string>;
  /** Earliest internal date among the copies. */
  receivedAt: number;
  size: number;
  /** The account's thread of this Email (RFC 8621 §3; storage/sqlite/threads.ts). */
  threadId: number;
}

export interface MailboxEntry {
  mailbox: Mailbox;
  status: MailboxStatus;
  /** The sortOrder a client set (sort_order.ts), or null for the default. */
  sortOrder: number | null;
}

/** The account's mailboxes (with counters) in id order. */
export async function loadMailboxes(store: Store, accountId: number): Promise<MailboxEntry[]> {
  const boxes = (await store.listMailboxes(accountId)).sort((a, b) => a.id - b.id);
  const orders = await readSortOrders(store, accountId);
  return await Promise.all(
    boxes.map(async (mailbox) => ({
      mailbox,
      status: await store.mailboxStatus(mailbox.id),
      sortOrder: orders.get(mailbox.id) ?? null,
    })),
  );
}

/** Copies grouped into Emails by blob id (in the order of their first copy). */
export function emailsOf(copies: readonly EmailCopy[]): Map<number, EmailEntry> {
  const emails = new Map<number, EmailEntry>();
  for (const m of copies) {
    const e = emails.get(m.blobId);
    if (e) {
      e.copies.push([m.mailboxId, m.uid]);
      if (!e.mailboxIds.includes(m.mailboxId)) e.mailboxIds.push(m.mailboxId);
      for (const f of m.flags) e.flags.add(f);
      e.receivedAt = Math.min(e.receivedAt, m.internalDate);
    } else {
      emails.set(m.blobId, {
        blobId: m.blobId,
        mailboxIds: [m.mailboxId],
        copies: [[m.mailboxId, m.uid]],
        flags: new Set(m.flags),
        receivedAt: m.internalDate,
        size: m.size,
        threadId: m.threadId,
      });
    }
  }
  return emails;
}

/** Every Email of the account by blob id. */
export async function loadEmails(
  store: Store,
  accountId: number,
): Promise<Map<number, EmailEntry>> {
  return emailsOf(await store.accountCopies(accountId));
}

/** The given Emails of the account that exist, by blob id. */
export async function loadEmailsByBlob(
  store: Store,
  accountId: number,
  blobIds: number[],
): Promise<Map<number, EmailEntry>> {
  return emailsOf(await store.emailCopies(accountId, blobIds));
}

/**
 * The bytes of an Email listed a moment ago, or null when it has been destroyed since (an
 * Email/set, a move to Trash and expunge, a draft replaced: another request's commit may land
 * between the listing and this read, and the blob goes with the last copy). RFC 8620 §5.1:
 * such an id is notFound, not a serverFail. A blob missing while its Email still exists is
 * damage, and still an error.
 */
export async function readListedEmail(
  store: Store,
  accountId: number,
  blobId: number,
): Promise<Uint8Array | null> {
  try {
    return await store.readBlob(blobId);
  } catch (e) {
    if (!(e instanceof StoreError) || e.code !== "not_found") throw e;
    if ((await store.emailCopies(accountId, [blobId])).length > 0) throw e;
    return null;
  }
}
