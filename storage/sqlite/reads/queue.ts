/**
 * Outbound queue reads of the SQLite store (writes/queue.ts has the writes).
 *
 * @module
 */
import type { QueueEntry } from "../../mod.ts";
import { QUEUE_COLUMNS, type Statements, toQueueEntry } from "../rows.ts";
import { row, rows } from "./query.ts";

export function listQueue(read: Statements): QueueEntry[] {
  return rows(read, `SELECT ${QUEUE_COLUMNS} FROM queue ORDER BY id`).map(toQueueEntry);
}

export function dueQueue(read: Statements, now: number, limit: number): QueueEntry[] {
  return rows(
    read,
    `SELECT ${QUEUE_COLUMNS} FROM queue WHERE next_attempt_at <= ?
     ORDER BY next_attempt_at, id LIMIT ?`,
    now,
    Math.max(0, Math.trunc(limit)),
  ).map(toQueueEntry);
}

export function getQueueEntry(read: Statements, id: number): QueueEntry | null {
  const r = row(read, `SELECT ${QUEUE_COLUMNS} FROM queue WHERE id = ?`, id);
  return r ? toQueueEntry(r) : null;
}
