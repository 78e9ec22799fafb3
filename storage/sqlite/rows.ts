/**
 * Pieces shared by the read side (main thread) and the write side (writer worker):
 * a prepared-statement cache and the row -> interface mappers.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

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

export {
  ACCOUNT_COLUMNS,
  MAILBOX_COLUMNS,
  MESSAGE_COLUMNS,
  parseFlags,
  QUEUE_COLUMNS,
  toAccount,
  toMailbox,
  toMessage,
  toQueueEntry,
} from "../rows.ts";
