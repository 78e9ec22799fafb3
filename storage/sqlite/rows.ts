/**
 * Pieces shared by the read side (main thread) and the write side (writer worker):
 * a prepared-statement cache and the row -> interface mappers.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Account, Mailbox, SpecialUse } from "../mod.ts";

/** Prepares each SQL text once per connection (statements are reused, never re-parsed). */
export class Statements {
  #cache = new Map<string, StatementSync>();
  constructor(readonly db: DatabaseSync) {}

  /** The cached statement for `sql`. */
  get(sql: string): StatementSync {
    let s = this.#cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

export const ACCOUNT_COLUMNS = "id, email, password_hash, quota_bytes, created_at";

export function toAccount(r: Row): Account {
  return {
    id: r.id as number,
    email: r.email as string,
    passwordHash: r.password_hash as string,
    quotaBytes: r.quota_bytes as number | null,
    createdAt: r.created_at as number,
  };
}

/** Mailbox columns; `subscribed` comes from the subscriptions table (one source of truth). */
export const MAILBOX_COLUMNS = `m.id, m.account_id, m.name, m.uid_validity, m.uid_next,
  m.highest_modseq, m.special_use,
  EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name)
    AS subscribed`;

export function toMailbox(r: Row): Mailbox {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    name: r.name as string,
    uidValidity: r.uid_validity as number,
    uidNext: r.uid_next as number,
    highestModseq: r.highest_modseq as number,
    specialUse: r.special_use as SpecialUse | null,
    subscribed: r.subscribed === 1,
  };
}

export { MESSAGE_COLUMNS, parseFlags, QUEUE_COLUMNS, toMessage, toQueueEntry } from "../rows.ts";
