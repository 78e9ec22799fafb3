/**
 * Message bytes in PostgreSQL, whole or a range: the row's inline part (`blobs.data`) and,
 * when its body is shared, the body from the BlobStore (../blob_store.ts).
 *
 * @module
 */
import { StoreError } from "../../mod.ts";
import { bodyPart, clampRange, concat, missingBody } from "../../blobs.ts";
import { bodies, type Run, SUBSTRING, substringArgs } from "../blob_store.ts";
import { toBytes } from "../rows.ts";

function noBlob(blobId: number): StoreError {
  return new StoreError("not_found", `no such blob: ${blobId}`);
}

/**
 * A message's bytes, whole; StoreError "not_found" when there is no such blob. One
 * statement: the body comes with the row (`bodies.joined`), not in a second round trip —
 * IMAP FETCH reads message after message, and each round trip is a context switch.
 */
export async function messageBytes(run: Run, blobId: number): Promise<Uint8Array> {
  const [r] = await run(
    `SELECT b.data, b.body_digest, ${bodies.joined} AS body FROM blobs b WHERE b.id = $1`,
    [blobId],
  );
  if (!r) throw noBlob(blobId);
  const head = toBytes(r.data as Uint8Array);
  if (r.body_digest === null) return head;
  if (r.body === null) throw missingBody(r.body_digest as Uint8Array);
  return concat(head, toBytes(r.body as Uint8Array));
}

/** Bytes [offset, offset + length) of a message, clipped to its end. */
export async function messageRange(
  run: Run,
  blobId: number,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const [start, len] = clampRange(offset, length);
  const [r] = await run(
    `SELECT ${SUBSTRING} AS part, length(data) AS n, body_digest FROM blobs WHERE id = $3`,
    [...substringArgs(start, len), blobId],
  );
  if (!r) throw noBlob(blobId);
  const head = toBytes(r.part as Uint8Array);
  const want = r.body_digest === null ? null : bodyPart(start, len, Number(r.n));
  if (want === null) return head;
  return concat(head, await bodies.getRange(run, r.body_digest as Uint8Array, ...want));
}
