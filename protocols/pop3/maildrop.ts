/**
 * The maildrop of one POP3 session (RFC 1939 §5): the INBOX as it was at login, numbered
 * 1..n, with the session's deletion marks. Pure: no I/O (handlers read message bytes
 * through the Store).
 *
 * Invariants: message numbers never change during a session; a message marked deleted is
 * invisible to every command but RSET; nothing here is written to storage until the UPDATE
 * state (see commands/quit.ts).
 *
 * @module
 */
import type { Mailbox, MessageMeta } from "../../storage/mod.ts";
import { Pop3Error } from "./errors.ts";

/** One message of the maildrop. */
export interface DropMessage {
  uid: number;
  size: number;
  blobId: number;
  seen: boolean;
}

/** The session's view of the INBOX. */
export class Maildrop {
  readonly mailboxId: number;
  readonly uidValidity: number;
  #messages: DropMessage[];
  #deleted = new Set<number>();
  #retrieved = new Set<number>();

  constructor(mailbox: Mailbox, messages: readonly MessageMeta[]) {
    this.mailboxId = mailbox.id;
    this.uidValidity = mailbox.uidValidity;
    this.#messages = messages.map((m) => ({
      uid: m.uid,
      size: m.size,
      blobId: m.blobId,
      seen: m.flags.includes("\\Seen"),
    }));
  }

  /** Messages not marked deleted (RFC 1939 §5 STAT). */
  get count(): number {
    return this.#messages.length - this.#deleted.size;
  }

  /** Octets of the messages not marked deleted. */
  get size(): number {
    let total = 0;
    for (const [, m] of this.live()) total += m.size;
    return total;
  }

  /** [message number, message] of every message not marked deleted, in order. */
  *live(): Generator<[number, DropMessage]> {
    for (let i = 0; i < this.#messages.length; i++) {
      if (!this.#deleted.has(i + 1)) yield [i + 1, this.#messages[i]];
    }
  }

  /**
   * The message with this number. RFC 1939 §5: a number out of range or marked deleted is
   * an error.
   */
  get(n: number): DropMessage {
    const m = n >= 1 ? this.#messages[n - 1] : undefined;
    if (!m) throw new Pop3Error(`No such message`);
    if (this.#deleted.has(n)) throw new Pop3Error(`Message ${n} already deleted`);
    return m;
  }

  /** RFC 1939 §5 DELE: marks, never removes. */
  delete(n: number): void {
    this.get(n);
    this.#deleted.add(n);
  }

  /** RFC 1939 §5 RSET: unmarks every deleted message. */
  reset(): void {
    this.#deleted.clear();
  }

  /** Remembers a RETR, so UPDATE can set \Seen. */
  markRetrieved(n: number): void {
    this.#retrieved.add(n);
  }

  /**
   * RFC 1939 §7 UIDL: a unique-id that never changes and is never reused. UIDs are never
   * reused under one UIDVALIDITY, so the pair is unique for the life of the mailbox.
   */
  uniqueId(n: number): string {
    return `${this.uidValidity}.${this.get(n).uid}`;
  }

  /** UIDs marked deleted (to expunge in UPDATE). */
  deletedUids(): number[] {
    return [...this.#deleted].sort((a, b) => a - b).map((n) => this.#messages[n - 1].uid);
  }

  /** UIDs retrieved, not deleted and not yet \Seen (to flag in UPDATE). */
  newlySeenUids(): number[] {
    return [...this.#retrieved].sort((a, b) => a - b)
      .filter((n) => !this.#deleted.has(n) && !this.#messages[n - 1].seen)
      .map((n) => this.#messages[n - 1].uid);
  }
}
