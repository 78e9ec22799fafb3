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
import { searchableText } from "../text.ts";
import { asBuffer, bodies } from "../blob_store.ts";
import { q, q1, type WriteContext } from "./context.ts";

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
  const at = splitAt(message);
  const body = at < 0 ? null : message.subarray(at);
  const bodyDigest = body ? createHash("sha256").update(body).digest() : null;
  // The body and the row are two statements sent together (pipelined on the transaction).
  const put = body ? bodies.putKnown((t, p) => q(ctx, t, p), bodyDigest!, body) : null;
  const params = [
    asBuffer(digest),
    message.byteLength,
    asBuffer(at < 0 ? message : message.subarray(0, at)),
    bodyDigest,
  ];
  const insert = "INSERT INTO blobs (digest, size, data, body_digest) VALUES ($1, $2, $3, $4)";
  let row: Promise<Record<string, unknown> | undefined>;
  if (!searchable) row = q1(ctx, `${insert} RETURNING id`, params);
  else {
    // The blob and its search text in one statement (one round trip).
    const t = searchableText(message);
    row = q1(
      ctx,
      `WITH b AS (${insert} RETURNING id)
       INSERT INTO blob_text (blob_id, header, body, partial) SELECT id, $5, $6, $7 FROM b
       RETURNING blob_id AS id`,
      [...params, t.header, t.body, t.partial],
    );
  }
  const [r] = await Promise.all([row, put]);
  return r!.id as number;
}
