/**
 * Message bodies in PostgreSQL: table `blob_bodies`, the PostgreSQL `BlobStore` (../blobs.ts).
 * A message row (`blobs`) whose body is shared keeps its header block in `data` and the
 * body's SHA-256 in `body_digest` (migration "blob_bodies" in schema.ts).
 *
 * No reference counts: a count on a shared body would be one hot row that every delivery of
 * a newsletter updates (and waits for). Instead a body that may have lost its last message
 * is a candidate in `blob_body_orphans` (a trigger adds it when a `blobs` row with a body goes;
 * `put` adds a body it inserts), and `deleteUnreferenced` deletes the candidates no row names
 * while it holds `blob_bodies` in EXCLUSIVE mode: a write that is about to name a body has
 * `put` it in its own transaction (ROW EXCLUSIVE on the table until it commits), so the sweep
 * waits for it and then sees its row; writes that start later wait for the sweep.
 *
 * Two transactions putting the same new body: the second waits for the first's COMMIT (the
 * unique digest), then stores nothing. Two that each put two new bodies in opposite orders
 * can deadlock; PostgreSQL aborts one and the store retries it whole (store.ts).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type BlobStore, clampRange, missingBody, sha256 } from "../blobs.ts";
import { type Read, type Row, toBytes } from "./rows.ts";

/** Runs one statement: on the pool (reads) or in a write's transaction. */
export type Run = Read;

/** The bytes as the driver sends them (a view of the caller's array, not a copy). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Message bytes as a text parameter for `decode($n, 'base64')`: the driver sends every
 * parameter as text, a bytea as hex (two characters an octet); base64 is a third fewer
 * octets to write to the socket, for the database to read and to decode.
 */
export function asBase64(b: Uint8Array): string {
  return asBuffer(b).toString("base64");
}

class PgBodies implements BlobStore<Run> {
  async put(run: Run, bytes: Uint8Array): Promise<Uint8Array> {
    const digest = sha256(bytes);
    await this.putKnown(run, digest, bytes);
    return digest;
  }

  /** `put` when the caller already has the digest (the message row names it). */
  async putKnown(run: Run, digest: Uint8Array, bytes: Uint8Array): Promise<void> {
    await run(
      `WITH i AS (INSERT INTO blob_bodies (digest, data) VALUES ($1, decode($2, 'base64'))
         ON CONFLICT (digest) DO NOTHING RETURNING digest)
       INSERT INTO blob_body_orphans (digest) SELECT digest FROM i`,
      [asBuffer(digest), asBase64(bytes)],
    );
  }

  /**
   * A scalar subquery giving the body of the `blobs` row aliased `b` (NULL when it has
   * none or it is missing): a DB store can hand a message's body over with its row, in the
   * same statement. (An object store would `get` it instead.)
   */
  readonly joined = "(SELECT bb.data FROM blob_bodies bb WHERE bb.digest = b.body_digest)";

  async get(run: Run, digest: Uint8Array): Promise<Uint8Array> {
    const [r] = await run("SELECT data FROM blob_bodies WHERE digest = $1", [asBuffer(digest)]);
    if (!r) throw missingBody(digest);
    return toBytes(r.data as Uint8Array);
  }

  async getRange(run: Run, digest: Uint8Array, offset: number, length: number) {
    const [start, len] = clampRange(offset, length);
    const [r] = await run(
      `SELECT ${SUBSTRING} AS part FROM blob_bodies WHERE digest = $3`,
      [...substringArgs(start, len), asBuffer(digest)],
    );
    if (!r) throw missingBody(digest);
    return toBytes(r.part as Uint8Array);
  }

  async has(run: Run, digest: Uint8Array): Promise<boolean> {
    const rows = await run("SELECT 1 AS x FROM blob_bodies WHERE digest = $1", [
      asBuffer(digest),
    ]);
    return rows.length > 0;
  }

  /** `run` must be a write's transaction (the lock is held until its COMMIT). */
  async deleteUnreferenced(run: Run): Promise<number> {
    await run("LOCK TABLE blob_bodies IN EXCLUSIVE MODE", []);
    const [r] = await run(
      `WITH c AS (DELETE FROM blob_body_orphans RETURNING digest),
       d AS (DELETE FROM blob_bodies bb WHERE bb.digest IN (SELECT digest FROM c)
         AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.body_digest = bb.digest) RETURNING 1)
       SELECT count(*) AS n FROM d`,
      [],
    ) as Row[];
    return Number(r.n);
  }
}

/** The PostgreSQL store's bodies. */
export const bodies: PgBodies = new PgBodies();

/** substring() on bytea counts bytes, 1-based, and clips at the end; $1 start, $2 length. */
export const SUBSTRING = "substring(data FROM $1::bigint::int FOR $2::bigint::int)";

/** The parameters of `SUBSTRING` for bytes [start, start + len), within int4. */
export function substringArgs(start: number, len: number): [number, number] {
  return [Math.min(start + 1, 2 ** 31 - 1), Math.min(len, 2 ** 31 - 1)];
}

/** The migration that creates `blob_bodies` (appended in schema.ts). */
export const BLOB_BODIES_MIGRATION = `
  CREATE TABLE blob_bodies (
    digest bytea PRIMARY KEY, -- SHA-256 of data
    data   bytea NOT NULL
  );
  ALTER TABLE blobs ADD COLUMN body_digest bytea; -- set: data is the header block only
  CREATE INDEX blobs_body ON blobs(body_digest) WHERE body_digest IS NOT NULL;
  CREATE TABLE blob_body_orphans (digest bytea NOT NULL);
  CREATE FUNCTION blob_body_orphan() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO blob_body_orphans (digest) VALUES (OLD.body_digest);
    RETURN NULL;
  END $$;
  CREATE TRIGGER blobs_body_orphan AFTER DELETE ON blobs FOR EACH ROW
    WHEN (OLD.body_digest IS NOT NULL) EXECUTE FUNCTION blob_body_orphan();
`;
