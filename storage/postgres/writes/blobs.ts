/**
 * Message bytes in PostgreSQL: one `blobs` row per distinct SHA-256 digest, so the same bytes
 * are stored once (several mailbox and queue entries share it; `refs` counts them, kept by
 * triggers). Only this file and the store's blob reads touch `blobs.data`: the place an
 * S3-compatible blob store would plug in.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { searchableText } from "../text.ts";
import { q, q1, type WriteContext } from "./context.ts";

/** The bytes as the driver sends them (a view of the caller's array, not a copy). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Stores `message` (or finds it stored) and returns its blob id. The row stays locked until
 * COMMIT, so a concurrent expunge cannot delete it before our reference is counted.
 * `searchable`: also store its search text (messages; queue entries need none).
 */
export async function storeBlob(
  ctx: WriteContext,
  message: Uint8Array,
  searchable: boolean,
): Promise<number> {
  const digest = createHash("sha256").update(message).digest();
  const r = await q1(
    ctx,
    `INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3)
     ON CONFLICT (digest) DO UPDATE SET refs = blobs.refs RETURNING id`,
    [asBuffer(digest), message.byteLength, asBuffer(message)],
  );
  const id = r!.id as number;
  if (searchable && !(await q1(ctx, "SELECT 1 AS x FROM blob_text WHERE blob_id = $1", [id]))) {
    const t = searchableText(message);
    await q(
      ctx,
      `INSERT INTO blob_text (blob_id, header, body, partial) VALUES ($1, $2, $3, $4)
       ON CONFLICT (blob_id) DO NOTHING`,
      [id, t.header, t.body, t.partial],
    );
  }
  return id;
}
