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
import { q1, type WriteContext } from "./context.ts";

/** The bytes as the driver sends them (a view of the caller's array, not a copy). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Stores `message` as a new blob and returns its id; its SHA-256 is kept in `digest`.
 * `searchable`: a message, whose search text the indexer makes after the delivery
 * (../search_index.ts); queue entries need none.
 */
export async function storeBlob(
  ctx: WriteContext,
  message: Uint8Array,
  searchable: boolean,
): Promise<number> {
  const digest = createHash("sha256").update(message).digest();
  const r = await q1(
    ctx,
    searchable
      ? `WITH b AS (INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3) RETURNING id)
         INSERT INTO search_pending (blob_id) SELECT id FROM b RETURNING blob_id AS id`
      : "INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3) RETURNING id",
    [asBuffer(digest), message.byteLength, asBuffer(message)],
  );
  return r!.id as number;
}
