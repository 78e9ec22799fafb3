/**
 * Message bytes in SQLite: digests, and bodies shared between identical deliveries.
 *
 * A blob (`blobs` + `blob_data`) is one stored message; JMAP Email ids, threads and the
 * full-text index are keyed by blob, so two deliveries must stay two blobs even when their
 * bytes are the same (as on PostgreSQL). What two separate SMTP deliveries of one newsletter
 * share is the body: the server prepends a different Received:/Return-Path to each, so whole
 * messages never match, but everything after the header block does. So:
 * - `blobs.sha256` is the SHA-256 of the whole message (checked by `verify`);
 * - a body of at least `SHARED_BODY_MIN` octets is stored once in `blob_bodies`, the SQLite
 *   `BlobStore` (../blobs.ts; keyed by its SHA-256, `refs` counting the `blob_data` rows that
 *   use it, kept by triggers: the body goes when its last message does) and `blob_data.data`
 *   then holds only the header block;
 * - the store reads and writes bodies only through `bodies` (`storeBlob`, `messageBytes`,
 *   `messageRange`); `BLOB_BYTES` is the SQL expression that puts a message back together
 *   for the checkers and the bulk copy of `storage migrate` (byte-exact: `||` keeps the
 *   bytes, the CAST makes the result a BLOB again, so substr() counts bytes).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { WriteContext } from "./writes/context.ts";
import type { Statements } from "./rows.ts";
import { StoreError } from "../mod.ts";
import {
  type BlobStore,
  bodyPart,
  clampRange,
  concat,
  missingBody,
  sha256,
  splitAt,
} from "../blobs.ts";

export { sha256 };

/** Migration "blob_digests": whole-message digests and shared bodies. */
export const BLOB_DIGESTS_MIGRATION = `
  ALTER TABLE blobs ADD COLUMN sha256 BLOB; -- NULL only until the backfill at the next open
  ALTER TABLE blob_data ADD COLUMN body_id INTEGER; -- set: data is the header block only
  CREATE TABLE blob_bodies (
    id     INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,
    refs   INTEGER NOT NULL DEFAULT 0,
    data   BLOB NOT NULL
  );
  CREATE INDEX blob_data_body ON blob_data(body_id) WHERE body_id IS NOT NULL;
  CREATE TRIGGER blob_data_body_ai AFTER INSERT ON blob_data WHEN NEW.body_id IS NOT NULL BEGIN
    UPDATE blob_bodies SET refs = refs + 1 WHERE id = NEW.body_id;
  END;
  CREATE TRIGGER blob_data_body_ad AFTER DELETE ON blob_data WHEN OLD.body_id IS NOT NULL BEGIN
    UPDATE blob_bodies SET refs = refs - 1 WHERE id = OLD.body_id;
    DELETE FROM blob_bodies WHERE id = OLD.body_id AND refs <= 0;
  END;
  INSERT OR REPLACE INTO meta (key, value) VALUES ('blob_digest_backfill', 1);
`;

/** The FROM clause that `BLOB_BYTES` needs (alias `d` for blob_data). */
export const BLOB_FROM = "blob_data d LEFT JOIN blob_bodies bb ON bb.id = d.body_id";
/** A message's bytes, whole, from `BLOB_FROM`. */
export const BLOB_BYTES =
  "CASE WHEN d.body_id IS NULL THEN d.data ELSE CAST(d.data || bb.data AS BLOB) END";

/** `blob_bodies` as a BlobStore; `tx`: the statements of the connection (reader or writer). */
class SqliteBodies implements BlobStore<Statements> {
  put(sql: Statements, bytes: Uint8Array): Uint8Array {
    const digest = sha256(bytes);
    sql.get("INSERT INTO blob_bodies (sha256, data) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING")
      .run(digest, bytes);
    return digest;
  }

  get(sql: Statements, digest: Uint8Array): Uint8Array {
    const r = sql.get("SELECT data FROM blob_bodies WHERE sha256 = ?").get(digest);
    if (!r) throw missingBody(digest);
    return r.data as Uint8Array;
  }

  getRange(sql: Statements, digest: Uint8Array, offset: number, length: number): Uint8Array {
    const [start, len] = clampRange(offset, length);
    // substr() on a BLOB counts bytes, 1-based, and clips at the end.
    const r = sql.get(
      "SELECT CASE WHEN ? = 0 THEN x'' ELSE substr(data, ?, ?) END AS part FROM blob_bodies WHERE sha256 = ?",
    ).get(len, start + 1, len, digest);
    if (!r) throw missingBody(digest);
    return (r.part as Uint8Array | null) ?? new Uint8Array(0);
  }

  has(sql: Statements, digest: Uint8Array): boolean {
    return sql.get("SELECT 1 AS x FROM blob_bodies WHERE sha256 = ?").get(digest) !== undefined;
  }

  /** The triggers delete a body with its last message; this finds bodies put but never used. */
  deleteUnreferenced(sql: Statements): number {
    return Number(sql.get("DELETE FROM blob_bodies WHERE refs <= 0").run().changes);
  }
}

/** The SQLite store's bodies. */
export const bodies: SqliteBodies = new SqliteBodies();

/** Stores one message as a new blob (its body shared when already stored); returns its id. */
export function storeBlob(ctx: WriteContext, message: Uint8Array): number {
  const { lastInsertRowid } = ctx.sql.get("INSERT INTO blobs (size, sha256) VALUES (?, ?)").run(
    message.byteLength,
    sha256(message),
  );
  const at = splitAt(message);
  if (at < 0) {
    ctx.sql.get("INSERT INTO blob_data (id, data) VALUES (?, ?)").run(lastInsertRowid, message);
    return Number(lastInsertRowid);
  }
  const digest = bodies.put(ctx.sql, message.subarray(at));
  ctx.sql.get(
    "INSERT INTO blob_data (id, data, body_id) VALUES (?, ?, (SELECT id FROM blob_bodies WHERE sha256 = ?))",
  ).run(lastInsertRowid, message.subarray(0, at), digest);
  return Number(lastInsertRowid);
}

/** The row part of a message: its inline bytes (or a range of them) and its body's digest. */
function head(sql: Statements, blobId: number, range?: [number, number]) {
  const part = range ? "CASE WHEN ? = 0 THEN x'' ELSE substr(d.data, ?, ?) END" : "d.data";
  const r = sql.get(
    `SELECT ${part} AS part, length(d.data) AS n, d.body_id, bb.sha256 AS body
     FROM blob_data d LEFT JOIN blob_bodies bb ON bb.id = d.body_id WHERE d.id = ?`,
  ).get(...(range ? [range[1], range[0] + 1, range[1]] : []), blobId);
  if (!r) throw new StoreError("not_found", `no such blob: ${blobId}`);
  if (r.body_id !== null && r.body === null) {
    throw new StoreError("not_found", `blob ${blobId}: its shared body ${r.body_id} is missing`);
  }
  return {
    part: (r.part as Uint8Array | null) ?? new Uint8Array(0),
    length: Number(r.n),
    body: r.body as Uint8Array | null,
  };
}

/** A message's bytes, whole; StoreError "not_found" when there is no such blob. */
export function messageBytes(sql: Statements, blobId: number): Uint8Array {
  const h = head(sql, blobId);
  return h.body === null ? h.part : concat(h.part, bodies.get(sql, h.body));
}

/** A message's bytes, or null when there is no such blob (or its body is missing). */
export function messageOrNull(sql: Statements, blobId: number): Uint8Array | null {
  try {
    return messageBytes(sql, blobId);
  } catch (e) {
    if (e instanceof StoreError && e.code === "not_found") return null;
    throw e;
  }
}

/** Bytes [offset, offset + length) of a message, clipped to its end. */
export function messageRange(
  sql: Statements,
  blobId: number,
  offset: number,
  length: number,
): Uint8Array {
  const [start, len] = clampRange(offset, length);
  const h = head(sql, blobId, [start, len]);
  const want = h.body === null ? null : bodyPart(start, len, h.length);
  return want === null ? h.part : concat(h.part, bodies.getRange(sql, h.body!, want[0], want[1]));
}

/**
 * Gives every blob stored before digests existed its SHA-256 (once, after the migration;
 * in pages of committed transactions so a large store does not hold one huge one).
 */
export function backfillDigests(db: DatabaseSync): void {
  if (!db.prepare("SELECT value FROM meta WHERE key = 'blob_digest_backfill'").get()) return;
  const page = db.prepare(
    `SELECT d.id, ${BLOB_BYTES} AS data FROM ${BLOB_FROM}
     JOIN blobs b ON b.id = d.id WHERE b.sha256 IS NULL LIMIT 500`,
  );
  const set = db.prepare("UPDATE blobs SET sha256 = ? WHERE id = ?");
  for (;;) {
    db.exec("BEGIN IMMEDIATE");
    try {
      const rows = page.all() as Array<{ id: number; data: Uint8Array }>;
      for (const r of rows) set.run(sha256(r.data), r.id);
      if (rows.length === 0) db.exec("DELETE FROM meta WHERE key = 'blob_digest_backfill'");
      db.exec("COMMIT");
      if (rows.length === 0) return;
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
}
