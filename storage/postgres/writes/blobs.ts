/**
 * Message bytes in PostgreSQL: one `blobs` row per stored message (a delivery to many
 * targets shares one; `refs` counts the mailbox and queue entries, kept by triggers), as on
 * SQLite. Not shared by digest: a JMAP Email is a blob of an account, so the same bytes
 * appended twice (IMAP APPEND, JMAP Email/copy or import) must be two Emails (migration 9).
 * Only this file and the store's blob reads touch `blobs.data`: the place an S3-compatible
 * blob store would plug in.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { searchableText } from "../text.ts";
import { q1, type WriteContext } from "./context.ts";

/** The bytes as the driver sends them (a view of the caller's array, not a copy). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Stores `message` as a new blob and returns its id; its SHA-256 is kept in `digest`.
 * `searchable`: also store its search text (messages; queue entries need none).
 */
export async function storeBlob(
  ctx: WriteContext,
  message: Uint8Array,
  searchable: boolean,
): Promise<number> {
  const digest = createHash("sha256").update(message).digest();
  const params = [asBuffer(digest), message.byteLength, asBuffer(message)];
  if (!searchable) {
    const r = await q1(
      ctx,
      "INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3) RETURNING id",
      params,
    );
    return r!.id as number;
  }
  // The blob and its search text in one statement (one round trip).
  const t = searchableText(message);
  const r = await q1(
    ctx,
    `WITH b AS (INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3) RETURNING id)
     INSERT INTO blob_text (blob_id, header, body, partial) SELECT id, $4, $5, $6 FROM b
     RETURNING blob_id AS id`,
    [...params, t.header, t.body, t.partial],
  );
  return r!.id as number;
}
