/**
 * Message bytes in SQLite: digests, and bodies shared between identical deliveries.
 *
 * A blob (`blobs` + `blob_data`) is one stored message; JMAP Email ids, threads and the
 * full-text index are keyed by blob, so two deliveries must stay two blobs even when their
 * bytes are the same (as on PostgreSQL). What two separate SMTP deliveries of one newsletter
 * share is the body: the server prepends a different Received:/Return-Path to each, so whole
 * messages never match, but everything after the header block does. So:
 * - `blobs.sha256` is the SHA-256 of the whole message (checked by `verify`);
 * - a body of at least `SHARED_BODY_MIN` octets is stored once in `blob_bodies` (keyed by its
 *   SHA-256, `refs` counting the `blob_data` rows that use it, kept by triggers: the body goes
 *   when its last message does) and `blob_data.data` then holds only the header block;
 * - `BLOB_BYTES` is the one SQL expression that puts a message back together (byte-exact:
 *   `||` keeps the bytes, the CAST makes the result a BLOB again, so substr() counts bytes).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { WriteContext } from "./writes/context.ts";

/** Bodies shorter than this stay inline: a shared row costs more than it saves. */
export const SHARED_BODY_MIN = 4096;

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

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** Where the body starts: after the first empty line (CRLF CRLF or LF LF), or -1. */
export function bodyStart(m: Uint8Array): number {
  for (let i = 0; i + 1 < m.length; i++) {
    if (m[i] !== 10) continue;
    if (m[i + 1] === 10) return i + 2;
    if (m[i + 1] === 13 && m[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Stores one message as a new blob (its body shared when already stored); returns its id. */
export function storeBlob(ctx: WriteContext, message: Uint8Array): number {
  const { lastInsertRowid } = ctx.sql.get("INSERT INTO blobs (size, sha256) VALUES (?, ?)").run(
    message.byteLength,
    sha256(message),
  );
  const at = bodyStart(message);
  if (at < 0 || message.byteLength - at < SHARED_BODY_MIN) {
    ctx.sql.get("INSERT INTO blob_data (id, data) VALUES (?, ?)").run(lastInsertRowid, message);
    return Number(lastInsertRowid);
  }
  const body = message.subarray(at);
  const digest = sha256(body);
  const found = ctx.sql.get("SELECT id FROM blob_bodies WHERE sha256 = ?").get(digest) as
    | { id: number }
    | undefined;
  const bodyId = found?.id ?? Number(
    ctx.sql.get("INSERT INTO blob_bodies (sha256, data) VALUES (?, ?)").run(digest, body)
      .lastInsertRowid,
  );
  ctx.sql.get("INSERT INTO blob_data (id, data, body_id) VALUES (?, ?, ?)").run(
    lastInsertRowid,
    message.subarray(0, at),
    bodyId,
  );
  return Number(lastInsertRowid);
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
