/**
 * Migration "deliver_known_bodies": `denomail_deliver_batch_blobs` (deliver_set_sql.ts) takes a
 * shared body by its digest alone (its bytes NULL) when this node has stored that body in a
 * batch that committed (delivery_batch.ts `KnownBodies`). One newsletter sent to many local
 * recipients, one SMTP transaction each, then crosses the wire and is decoded once, as the
 * SQLite store writes it once (sqlite/blobs.ts).
 *
 * The body must still be there when the batch commits. The statement that inserts the batch's
 * new bodies takes ROW EXCLUSIVE on `blob_bodies` even when it inserts none, so the orphan
 * sweep (blob_store.ts `deleteUnreferenced`, EXCLUSIVE) has either committed before it or
 * waits for this commit, when the batch's message rows name the body. Right after that
 * statement every digest sent without bytes is looked up (a new snapshot: a sweep that
 * committed before is seen); a missing one fails the statement with SQLSTATE DM001, the batch
 * rolls back, and each delivery is tried again alone, bytes included.
 *
 * @module
 */
import { DELIVER_SET_MIGRATION } from "./deliver_set_sql.ts";

/** Migration 22's body insert (replaced below; a migration's text never changes). */
const BODY_INSERT_22 = `WHERE x.d IS NOT NULL ORDER BY x.d) u
        ON CONFLICT (digest) DO NOTHING RETURNING bb.digest)
    INSERT INTO blob_body_orphans (digest) SELECT i.digest FROM i;`;

const BODY_INSERT_23 = `WHERE x.d IS NOT NULL AND x.b IS NOT NULL ORDER BY x.d) u
        ON CONFLICT (digest) DO NOTHING RETURNING bb.digest)
    INSERT INTO blob_body_orphans (digest) SELECT i.digest FROM i;
    IF EXISTS (SELECT 1 FROM unnest(p_body_digest, p_body) AS x(d, b)
        WHERE x.d IS NOT NULL AND x.b IS NULL
          AND NOT EXISTS (SELECT 1 FROM blob_bodies bb WHERE bb.digest = decode(x.d, 'hex')))
    THEN
      RAISE EXCEPTION 'a shared body sent by its digest alone is not stored'
        USING ERRCODE = 'DM001';
    END IF;`;

/** The function of migration 22, from its CREATE on, with the new body insert. */
function knownBodiesFunction(): string {
  const from = DELIVER_SET_MIGRATION.indexOf(
    "CREATE OR REPLACE FUNCTION denomail_deliver_batch_blobs(",
  );
  if (from < 0 || !DELIVER_SET_MIGRATION.includes(BODY_INSERT_22)) {
    throw new Error("deliver_known_bodies: migration 22's function text is not as expected");
  }
  return DELIVER_SET_MIGRATION.slice(from).replace(BODY_INSERT_22, BODY_INSERT_23);
}

export const DELIVER_KNOWN_BODIES_MIGRATION = knownBodiesFunction();

/** The SQLSTATE of a body sent by digest that is no longer stored. */
export const BODY_NOT_STORED = "DM001";
