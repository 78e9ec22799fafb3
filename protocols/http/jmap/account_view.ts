/**
 * One account's mailboxes and messages as JMAP sees them, read through the Store.
 *
 * An Email is a stored message (a blob) of the account: its copies in several mailboxes
 * are one Email whose mailboxIds name them all (RFC 8621 §4.1.1), and its keywords are the
 * union of the copies' flags. Only this account's mailboxes are read, so a blob delivered
 * to several accounts is found only in the caller's own.
 *
 * This first version reads every message entry of the account per request (linear in the
 * account's size); an index by blob comes with the JMAP performance work.
 *
 * @module
 */
import type { Mailbox, MailboxStatus, MessageMeta, Store } from "../../../storage/mod.ts";

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
}

export interface MailboxEntry {
  mailbox: Mailbox;
  status: MailboxStatus;
}

/** The account's mailboxes (with counters) in id order. */
export async function loadMailboxes(store: Store, accountId: number): Promise<MailboxEntry[]> {
  const boxes = (await store.listMailboxes(accountId)).sort((a, b) => a.id - b.id);
  return await Promise.all(
    boxes.map(async (mailbox) => ({ mailbox, status: await store.mailboxStatus(mailbox.id) })),
  );
}

/** Every Email of the account by blob id. */
export async function loadEmails(
  store: Store,
  mailboxes: readonly Mailbox[],
): Promise<Map<number, EmailEntry>> {
  const emails = new Map<number, EmailEntry>();
  for (const mb of mailboxes) {
    const messages: MessageMeta[] = await store.listMessages(mb.id);
    for (const m of messages) {
      const e = emails.get(m.blobId);
      if (e) {
        e.copies.push([mb.id, m.uid]);
        if (!e.mailboxIds.includes(mb.id)) e.mailboxIds.push(mb.id);
        for (const f of m.flags) e.flags.add(f);
        e.receivedAt = Math.min(e.receivedAt, m.internalDate);
      } else {
        emails.set(m.blobId, {
          blobId: m.blobId,
          mailboxIds: [mb.id],
          copies: [[mb.id, m.uid]],
          flags: new Set(m.flags),
          receivedAt: m.internalDate,
          size: m.size,
        });
      }
    }
  }
  return emails;
}
