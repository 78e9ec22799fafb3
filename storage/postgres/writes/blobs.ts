/**
 * Message bytes in PostgreSQL: one `blobs` row per stored message (a delivery to many
 * targets shares one; `refs` counts the mailbox and queue entries, kept by triggers), as on
 * SQLite. Rows are not shared by digest: a JMAP Email is a blob of an account, so the same
 * bytes appended twice (IMAP APPEND, JMAP Email/copy or import) must be two Emails
 * (migration 9). What identical deliveries share is the body: one of at least
 * `SHARED_BODY_MIN` octets goes to the BlobStore (../blob_store.ts) and the row keeps the
 * header block and the body's digest (../../blobs.ts).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { splitAt } from "../../blobs.ts";
import { asBase64, asBuffer, bodies } from "../blob_store.ts";
import { q, q1, type WriteContext } from "./context.ts";

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
  const at = splitAt(message);
  const body = at < 0 ? null : message.subarray(at);
  const bodyDigest = body ? createHash("sha256").update(body).digest() : null;
  // The body and the row are two statements sent together (pipelined on the transaction).
  const put = body ? bodies.putKnown((t, p) => q(ctx, t, p), bodyDigest!, body) : null;
  const params = [
    asBuffer(digest),
    message.byteLength,
    asBase64(at < 0 ? message : message.subarray(0, at)),
    bodyDigest,
  ];
  const insert =
    "INSERT INTO blobs (digest, size, data, body_digest) VALUES ($1, $2, decode($3, 'base64'), $4)";
  // A searchable message is noted for the search indexer (../search_index.ts), which makes
  // its text after the 250, off the delivery path.
  const row = q1(
    ctx,
    searchable
      ? `WITH b AS (${insert} RETURNING id)
         INSERT INTO search_pending (blob_id) SELECT id FROM b RETURNING blob_id AS id`
      : `${insert} RETURNING id`,
    params,
  );
  const [r] = await Promise.all([row, put]);
  return r!.id as number;
}
