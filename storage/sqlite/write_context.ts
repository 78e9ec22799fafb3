/**
 * What a write function gets besides its arguments: shared by the write functions
 * (writes.ts) and the full-text indexer (fts.ts), which runs inside the same batches.
 *
 * @module
 */
import type { MailboxChange } from "../mod.ts";
import type { Statements } from "./rows.ts";

/** What a write function gets besides its arguments. */
export interface WriteContext {
  /** Cached statements of the write connection (inside an open transaction). */
  readonly sql: Statements;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** Changes this request made; published after the commit. */
  readonly changes: MailboxChange[];
}
