/**
 * The \Recent flag across sessions (RFC 3501 §2.3.2, IMAP4rev1 only): a message is recent
 * in exactly one session, the first that selects its mailbox (read-write) after it arrived.
 *
 * Kept per mailbox as one number, the lowest UID no session has claimed yet (like Dovecot's
 * "first recent UID"). A SELECT or a session noticing new mail claims every UID up to the
 * highest it now shows; EXAMINE and STATUS only look. The numbers live in this process: after
 * a restart, mail that arrived before it is no longer recent (RFC 9051 dropped \Recent; this
 * is best effort for IMAP4rev1 clients, and never shows a message recent in two sessions).
 * One tracker per server (shared by the imap and imaps listeners), created by app/server.ts
 * before any listener starts, so that it sees every append; reached as `deps.recent`.
 * Several nodes on one database: each node's tracker also hears other nodes' appends (the
 * store republishes them, LISTEN/NOTIFY), so a message may be recent in one session per node
 * — RFC 3501 §2.3.2: when it cannot be determined that another session saw a message first,
 * it SHOULD be considered recent.
 *
 * Invariants:
 * - The first unclaimed UID of a mailbox only grows, so a UID is claimed at most once.
 * - A mailbox without an entry has nothing unclaimed; its first append event (published
 *   after the commit) creates the entry at that append's lowest UID.
 *
 * @module
 */
import type { Mailbox, MailboxChange, Store } from "../storage/mod.ts";

/** One mailbox's lowest unclaimed UID, and its UIDVALIDITY (0 until known). */
interface Entry {
  first: number;
  validity: number;
}

/** Per-server record of which UIDs are still unclaimed (recent to no session yet). */
export class RecentTracker {
  #store: Store;
  #entries = new Map<number, Entry>();

  constructor(store: Store) {
    this.#store = store;
    store.changes.addEventListener("change", (ev) => {
      this.onChange((ev as CustomEvent<MailboxChange>).detail);
    });
  }

  /** Records new mail (no I/O but a lookup of the mailbox's UIDVALIDITY). */
  onChange(change: MailboxChange): void {
    if (change.kind !== "append" || change.uids.length === 0) return;
    if (this.#entries.has(change.mailboxId)) return;
    let first = Infinity;
    for (const uid of change.uids) if (uid < first) first = uid;
    const entry: Entry = { first, validity: 0 };
    this.#entries.set(change.mailboxId, entry);
    this.#store.getMailboxById(change.mailboxId).then((mb) => {
      if (mb && entry.validity === 0) entry.validity = mb.uidValidity;
    }).catch(() => {});
  }

  /**
   * The entry of a mailbox. Mailbox ids may be reused after a DELETE: an entry of another
   * UIDVALIDITY belongs to an older mailbox, and a newer mailbox was created during this
   * process's life, so all of its mail is unclaimed unless claimed under its own UIDVALIDITY.
   */
  #entry(mb: Mailbox): Entry | undefined {
    const e = this.#entries.get(mb.id);
    if (!e) return undefined;
    if (e.validity === 0) e.validity = mb.uidValidity;
    if (e.validity === mb.uidValidity) return e;
    if (e.validity > mb.uidValidity) return undefined; // the caller's mailbox is gone
    e.first = 1;
    e.validity = mb.uidValidity;
    return e;
  }

  /** The lowest unclaimed UID of a mailbox; Infinity when nothing is unclaimed. */
  firstUnclaimed(mb: Mailbox): number {
    return this.#entry(mb)?.first ?? Infinity;
  }

  /**
   * Claims every unclaimed UID up to `upToUid` for the calling session and returns the lowest
   * of them (UIDs in [result, upToUid] are recent to that session; Infinity: none).
   */
  claim(mb: Mailbox, upToUid: number): number {
    const e = this.#entry(mb);
    if (!e) {
      this.#entries.set(mb.id, { first: upToUid + 1, validity: mb.uidValidity });
      return Infinity;
    }
    const first = e.first;
    if (upToUid + 1 > first) e.first = upToUid + 1;
    return first;
  }
}
