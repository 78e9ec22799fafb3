/**
 * Message bytes in PostgreSQL, whole or a range: the row's inline part (`blobs.data`) and,
 * when its body is shared, the body from the BlobStore (../blob_store.ts).
 *
 * @module
 */
import { StoreError } from "../../mod.ts";
import { bodyPart, clampRange, concat, missingBody } from "../../blobs.ts";
import { bodies, type Run, SUBSTRING, substringArgs } from "../blob_store.ts";
import { type Row, toBytes } from "../rows.ts";

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
  return bytesOf(r, blobId);
}

/** The message of a row read by `messageBytes` or `BatchedReads` (a fresh copy each call). */
function bytesOf(r: Row | undefined, blobId: number): Uint8Array {
  if (!r) throw noBlob(blobId);
  const head = toBytes(r.data as Uint8Array);
  if (r.body_digest === null) return head;
  if (r.body === null) throw missingBody(r.body_digest as Uint8Array);
  return concat(head, toBytes(r.body as Uint8Array));
}

/** A caller of `BatchedReads.read`. */
interface Waiting {
  id: number;
  resolve: (b: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** Most messages one batched statement reads. */
const MAX_BATCH = 32;

/**
 * `messageBytes` for reads asked for together: those requested in one turn of the event
 * loop (IMAP FETCH's read-ahead starts up to 16 at once; sessions reacting to one change)
 * go out as one statement, `id = ANY(...)`, instead of one round trip each. Each caller
 * gets its own message or its own error, as from `messageBytes`.
 */
export class BatchedReads {
  #queue: Waiting[] = [];

  constructor(private readonly run: Run) {}

  read(blobId: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ id: blobId, resolve, reject }) === 1) {
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const all = this.#queue;
    this.#queue = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) this.#send(all.slice(i, i + MAX_BATCH));
  }

  async #send(batch: Waiting[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await this.run(
        `SELECT b.id, b.data, b.body_digest, ${bodies.joined} AS body FROM blobs b
         WHERE b.id = ANY($1::bigint[])`,
        [[...new Set(batch.map((b) => b.id))]],
      );
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    const byId = new Map(rows.map((r) => [r.id as number, r]));
    for (const b of batch) {
      try {
        b.resolve(bytesOf(byId.get(b.id), b.id));
      } catch (e) {
        b.reject(e);
      }
    }
  }
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
