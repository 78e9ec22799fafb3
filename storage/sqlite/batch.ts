/**
 * Group commit: run a batch of write requests in ONE transaction, each in its own SAVEPOINT,
 * then COMMIT once. With `synchronous = FULL` the commit is the fsync, so a batch of N
 * requests costs one fsync instead of N.
 *
 * A request that throws rolls back only its savepoint and gets its own error; the others
 * commit. Nobody gets a success reply before the COMMIT has returned.
 *
 * This module runs in the writer worker and, for the inline writer, on the main thread.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { type MailboxChange, StoreError } from "../mod.ts";
import { forgetKvUsage } from "./kv_quota.ts";
import { Statements } from "./rows.ts";
import { type WriteOp, WRITES } from "./writes.ts";
import type { WriteContext } from "./writes/context.ts";

/** One write as it travels to the writer. */
export interface WireRequest {
  op: WriteOp;
  args: unknown;
}

/** An error in a structured-cloneable form (StoreError keeps its code). */
export interface WireError {
  name: string;
  message: string;
  code?: StoreError["code"];
}

/** The answer to one request, in the order the requests came. */
export type WireReply =
  | { ok: true; result: unknown; changes: MailboxChange[] }
  | { ok: false; error: WireError };

/** Error -> WireError. */
export function toWireError(e: unknown): WireError {
  if (e instanceof StoreError) return { name: e.name, message: e.message, code: e.code };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

/** WireError -> Error (a StoreError when it was one). */
export function fromWireError(w: WireError): Error {
  if (w.code) return new StoreError(w.code, w.message);
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** The write connection with its statement cache; what the writer owns. */
export class BatchRunner {
  readonly sql: Statements;
  /** Transactions committed (one per non-empty batch); tests use it to see batching. */
  commits = 0;

  constructor(readonly db: DatabaseSync, readonly now: () => number = Date.now) {
    this.sql = new Statements(db);
  }

  /** Runs `requests` in one transaction and returns one reply per request. */
  run(requests: readonly WireRequest[]): WireReply[] {
    const replies: WireReply[] = new Array(requests.length);
    if (requests.length === 0) return replies;
    const db = this.db;
    try {
      // IMMEDIATE: take the write lock now rather than failing half-way with SQLITE_BUSY.
      db.exec("BEGIN IMMEDIATE");
    } catch (e) {
      return requests.map(() => ({ ok: false, error: toWireError(e) }));
    }
    let committedUpTo = 0; // replies[0..committedUpTo) belong to an aborted transaction if set
    for (let i = 0; i < requests.length; i++) {
      const { op, args } = requests[i];
      const ctx: WriteContext = { sql: this.sql, now: this.now, changes: [] };
      db.exec("SAVEPOINT req");
      try {
        const fn = WRITES[op] as (ctx: WriteContext, args: unknown) => unknown;
        if (typeof fn !== "function") throw new Error(`unknown write operation: ${op}`);
        const result = fn(ctx, args);
        db.exec("RELEASE req");
        replies[i] = { ok: true, result, changes: ctx.changes };
      } catch (e) {
        replies[i] = { ok: false, error: toWireError(e) };
        if (db.isTransaction) {
          db.exec("ROLLBACK TO req");
          db.exec("RELEASE req");
        } else {
          // Some errors (disk full, I/O) make SQLite abort the whole transaction: the
          // requests before this one are lost too. Fail them and start a new transaction.
          forgetKvUsage(this.sql);
          for (let j = committedUpTo; j < i; j++) {
            if (replies[j].ok) {
              replies[j] = { ok: false, error: toWireError(e) };
            }
          }
          committedUpTo = i + 1;
          try {
            db.exec("BEGIN IMMEDIATE");
          } catch (e2) {
            for (let j = i + 1; j < requests.length; j++) {
              replies[j] = { ok: false, error: toWireError(e2) };
            }
            return replies;
          }
        }
      }
    }
    try {
      db.exec("COMMIT");
      this.commits++;
    } catch (e) {
      forgetKvUsage(this.sql);
      if (db.isTransaction) {
        try {
          db.exec("ROLLBACK");
        } catch { /* the commit error is the one to report */ }
      }
      for (let j = committedUpTo; j < requests.length; j++) {
        if (replies[j].ok) replies[j] = { ok: false, error: toWireError(e) };
      }
    }
    return replies;
  }
}
