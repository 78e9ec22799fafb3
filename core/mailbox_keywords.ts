/**
 * Keywords a mailbox has had, for the IMAP FLAGS response (RFC 9051 §7.3.5).
 *
 * A keyword stays in the mailbox's FLAGS once it was in use, even after the last message
 * carrying it is expunged or loses it (Dovecot keeps keywords the same way): another session
 * may still show a message with it, and a client must never see a keyword vanish from FLAGS
 * while a message it knows still carries it. The record lives in this process, one per
 * server (created by app/server.ts, reached as `deps.mailboxKeywords`); a mailbox id reused
 * after a DELETE starts over (checked by UIDVALIDITY).
 *
 * @module
 */
import type { Mailbox } from "../storage/mod.ts";

/**
 * Keywords one message may carry (IMAP STORE/APPEND: NO [LIMIT], RFC 5530 §3; JMAP
 * Email/set and import: tooManyKeywords, RFC 8621 §4.6). RFC 9051 §2.3.2 leaves the number
 * to the server; without one a client grew messages' flags without end.
 */
export const MAX_MESSAGE_KEYWORDS = 100;
/** Distinct keywords one mailbox may have had (every IMAP FLAGS response lists them all). */
export const MAX_MAILBOX_KEYWORDS = 1_000;

interface Entry {
  validity: number;
  /** Lower case -> as first spelled. */
  keywords: Map<string, string>;
}

/** The keyword records of a server's mailboxes. */
export class MailboxKeywords {
  #entries = new Map<number, Entry>();

  /** The keyword record of one mailbox (created empty on first use). */
  of(mb: Mailbox): Map<string, string> {
    let e = this.#entries.get(mb.id);
    if (!e || e.validity !== mb.uidValidity) {
      e = { validity: mb.uidValidity, keywords: new Map() };
      this.#entries.set(mb.id, e);
    }
    return e.keywords;
  }
}
