/**
 * Message reads of the SQLite store (on the reader connection): mailbox listings, changes
 * since a MODSEQ (RFC 7162), expunged UIDs, and message bytes. Synchronous, no writes.
 *
 * @module
 */
import type { MessageMeta } from "../../mod.ts";
import { MESSAGE_COLUMNS, parseFlags, type Statements, toMessage } from "../rows.ts";
import { rows } from "./query.ts";
import { messageBytes, messageRange } from "../blobs.ts";

/** One indexed range scan on the primary key (mailbox_id, uid), already in UID order. */
export function listMessages(read: Statements, mailboxId: number): MessageMeta[] {
  // Arrays instead of row objects: about twice as fast for 100k-message mailboxes.
  const stmt = read.get(
    "SELECT uid, modseq, flags, internal_date, size, blob_id FROM messages WHERE mailbox_id = ? ORDER BY uid",
  );
  // setReturnArrays is missing from Deno's node:sqlite types but implemented.
  (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  const rows = stmt.all(mailboxId) as unknown as Array<
    [number, number, string, number, number, number]
  >;
  const out: MessageMeta[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out[i] = {
      mailboxId,
      uid: r[0],
      modseq: r[1],
      flags: parseFlags(r[2]),
      internalDate: r[3],
      size: r[4],
      blobId: r[5],
    };
  }
  return out;
}

export function getMessages(read: Statements, mailboxId: number, uids: number[]): MessageMeta[] {
  if (uids.length === 0) return [];
  return rows(
    read,
    `SELECT ${MESSAGE_COLUMNS} FROM messages
     WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    mailboxId,
    JSON.stringify(uids),
  ).map(toMessage);
}

export function changedSince(read: Statements, mailboxId: number, modseq: number): MessageMeta[] {
  return rows(
    read,
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`,
    mailboxId,
    modseq,
  ).map(toMessage);
}

export function readBlob(read: Statements, blobId: number): Uint8Array {
  return messageBytes(read, blobId);
}

export function readBlobRange(
  read: Statements,
  blobId: number,
  offset: number,
  length: number,
): Uint8Array {
  return messageRange(read, blobId, offset, length);
}
