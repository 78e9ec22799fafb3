/**
 * Keywords a mailbox has had, for the IMAP FLAGS response (RFC 9051 §7.3.5).
 *
 * A keyword stays in the mailbox's FLAGS once it was in use, even after the last message
 * carrying it is expunged or loses it (Dovecot keeps keywords the same way): another session
 * may still show a message with it, and a client must never see a keyword vanish from FLAGS
 * while a message it knows still carries it. The record lives in this process, one per
 * server (created by app/server.ts, reached as `deps.mailboxKeywords`); a mailbox id reused
 * after a DELETE starts over (checked by UIDVALIDITY). After a restart a record starts empty;
 * before a write is checked against MAX_MAILBOX_KEYWORDS it is completed from the stored
 * messages (`complete`), else every restart would let MAX_MAILBOX_KEYWORDS more in.
 *
 * @module
 */
import type { DeliveryTarget, Mailbox, Store } from "../storage/mod.ts";
import { log } from "../lib/log.ts";

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
  /** Holds the keywords of every message stored in the mailbox (read once per process). */
  complete: boolean;
}

/** The keyword records of a server's mailboxes. */
export class MailboxKeywords {
  #entries = new Map<number, Entry>();

  #entry(mb: Mailbox): Entry {
    let e = this.#entries.get(mb.id);
    if (!e || e.validity !== mb.uidValidity) {
      e = { validity: mb.uidValidity, keywords: new Map(), complete: false };
      this.#entries.set(mb.id, e);
    }
    return e;
  }

  /** The keyword record of one mailbox (created empty on first use). */
  of(mb: Mailbox): Map<string, string> {
    return this.#entry(mb).keywords;
  }

  /** Says the record of `mb` now has every stored message's keywords (IMAP SELECT read them). */
  markComplete(mb: Mailbox): void {
    this.#entry(mb).complete = true;
  }

  /**
   * The record of `mb` with the keywords of every message stored in it: read from the store
   * the first time this process needs them for a check.
   */
  async complete(store: Pick<Store, "listMessages">, mb: Mailbox): Promise<Map<string, string>> {
    const e = this.#entry(mb);
    if (!e.complete) {
      const msgs = await store.listMessages(mb.id);
      for (const m of msgs) noteKeywords(e.keywords, m.flags);
      e.complete = true;
    }
    return e.keywords;
  }
}

/** A keyword, not a system flag (RFC 9051 §2.3.2: those begin with "\\"). */
export const isKeyword = (flag: string) => !flag.startsWith("\\");

/** True when `flags` hold a keyword. */
export const hasKeyword = (flags: readonly string[]) => flags.some(isKeyword);

/** Keywords (not system flags) of `flags` the record `known` lacks, lower case. */
function freshKeywords(known: ReadonlyMap<string, string>, flags: Iterable<string>): Set<string> {
  const fresh = new Set<string>();
  for (const f of flags) {
    const k = f.toLowerCase();
    if (isKeyword(f) && !known.has(k)) fresh.add(k);
  }
  return fresh;
}

/** True when storing `flags` would bring the mailbox of `known` past MAX_MAILBOX_KEYWORDS. */
export function exceedsMailboxKeywords(
  known: ReadonlyMap<string, string>,
  flags: Iterable<string>,
): boolean {
  const fresh = freshKeywords(known, flags).size;
  return fresh > 0 && known.size + fresh > MAX_MAILBOX_KEYWORDS;
}

/**
 * Records keywords just stored in the mailbox's record, so the next check counts them even
 * when no session announced them (STORE .SILENT, APPEND to a mailbox nobody selected, JMAP).
 */
export function noteKeywords(known: Map<string, string>, flags: Iterable<string>): void {
  for (const f of flags) {
    if (isKeyword(f) && !known.has(f.toLowerCase())) known.set(f.toLowerCase(), f);
  }
}

/**
 * Keeps delivered copies within MAX_MAILBOX_KEYWORDS: a filter (a user's Sieve script doing
 * `addflag "${1}"`) could otherwise give every arriving message a keyword of its own. Mail is
 * never refused for it: the keywords past the limit are left off the copy, logged.
 */
export async function boundDeliveryKeywords(
  store: Pick<Store, "getMailbox" | "listMessages">,
  records: MailboxKeywords,
  targets: DeliveryTarget[],
): Promise<void> {
  for (const t of targets) {
    if (!t.flags || !hasKeyword(t.flags)) continue;
    const mb = await store.getMailbox(t.accountId, t.mailbox);
    if (!mb) continue; // created by this delivery: its keywords are the copy's own
    const known = await records.complete(store, mb);
    if (exceedsMailboxKeywords(known, t.flags)) {
      const kept = t.flags.filter((f) => !isKeyword(f) || known.has(f.toLowerCase()));
      log.info("deliver", "keywords left off: the mailbox has the most it may", {
        account: t.accountId,
        mailbox: t.mailbox,
        dropped: t.flags.length - kept.length,
      });
      t.flags = kept;
    }
    noteKeywords(known, t.flags);
  }
}
