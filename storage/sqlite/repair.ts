/**
 * `verify --repair`: fixes what verify.ts found that can be fixed without losing mail, in
 * one write transaction that recomputes every value from the rows as they are then (the
 * server may have written since the check). Never deletes a message or a blob.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { BLOB_BYTES, BLOB_FROM, sha256 } from "./blobs.ts";

/** The ids verify found broken, by kind of repair. */
export interface Broken {
  /** Mailboxes whose messages/unseen/size counters disagree with their rows. */
  counters: Set<number>;
  /** Mailboxes whose UIDNEXT or HIGHESTMODSEQ is not above their rows'. */
  uidNext: Set<number>;
  /** [mailbox, uid] whose seen/deleted columns disagree with the flags. */
  flagColumns: Array<[number, number]>;
  /** Blobs whose reference count is wrong (and that something uses). */
  refs: Set<number>;
  /** Shared bodies whose reference count is wrong. */
  bodyRefs: Set<number>;
  /** Blobs without a recorded digest. */
  noDigest: Set<number>;
  /** Full-text index rows of blobs that do not exist. */
  extraIndex: Set<number>;
  /** Blobs of messages neither indexed nor pending. */
  unindexed: Set<number>;
}

/** Applies the repairs; returns how many were made (each reported through `say`). */
export function repair(path: string, b: Broken, say: (line: string) => void): number {
  const db = new DatabaseSync(path);
  let n = 0;
  const done = (line: string) => {
    n++;
    say(line);
  };
  try {
    db.exec("PRAGMA busy_timeout = 30000");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("BEGIN IMMEDIATE");
    try {
      // First the columns: the counters' trigger (messages_au) moves with them.
      const cols = db.prepare(`UPDATE messages SET
        seen = (instr(' ' || flags || ' ', ' \\Seen ') > 0),
        deleted = (instr(' ' || flags || ' ', ' \\Deleted ') > 0)
        WHERE mailbox_id = ? AND uid = ?`);
      for (const [mb, uid] of b.flagColumns) {
        cols.run(mb, uid);
        done(`message mailbox ${mb} UID ${uid}: seen/deleted columns set from its flags`);
      }
      const recount = db.prepare(`UPDATE mailboxes SET
        messages = (SELECT count(*) FROM messages WHERE mailbox_id = ?1),
        unseen = (SELECT count(*) FROM messages WHERE mailbox_id = ?1 AND seen = 0),
        size = (SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = ?1)
        WHERE id = ?1 RETURNING messages, unseen, size`);
      for (const id of b.counters) {
        const r = recount.get(id) as Record<string, number> | undefined;
        if (r) {
          done(
            `mailbox ${id}: counters recounted (messages ${r.messages}, unseen ${r.unseen}, size ${r.size})`,
          );
        }
      }
      // RFC 9051 §2.3.1.1 / RFC 7162 §3.1: only ever raised, never lowered.
      const raise = db.prepare(`UPDATE mailboxes SET
        uid_next = max(uid_next,
          (SELECT coalesce(max(uid), 0) + 1 FROM messages WHERE mailbox_id = ?1),
          (SELECT coalesce(max(uid), 0) + 1 FROM expunged WHERE mailbox_id = ?1)),
        highest_modseq = max(highest_modseq,
          (SELECT coalesce(max(modseq), 0) FROM messages WHERE mailbox_id = ?1),
          (SELECT coalesce(max(modseq), 0) FROM expunged WHERE mailbox_id = ?1))
        WHERE id = ?1 RETURNING uid_next, highest_modseq`);
      for (const id of b.uidNext) {
        const r = raise.get(id) as Record<string, number> | undefined;
        if (r) {
          done(
            `mailbox ${id}: UIDNEXT raised to ${r.uid_next}, HIGHESTMODSEQ to ${r.highest_modseq}`,
          );
        }
      }
      const refs = db.prepare(`UPDATE blobs SET refs =
        (SELECT count(*) FROM messages WHERE blob_id = ?1) +
        (SELECT count(*) FROM queue WHERE blob_id = ?1) WHERE id = ?1 RETURNING refs`);
      for (const id of b.refs) {
        const r = refs.get(id) as { refs: number } | undefined;
        if (r) done(`blob ${id}: reference count set to ${r.refs}`);
      }
      const bodyRefs = db.prepare(`UPDATE blob_bodies SET refs =
        (SELECT count(*) FROM blob_data WHERE body_id = ?1) WHERE id = ?1 RETURNING refs`);
      for (const id of b.bodyRefs) {
        const r = bodyRefs.get(id) as { refs: number } | undefined;
        if (r) done(`shared body ${id}: reference count set to ${r.refs}`);
      }
      const bytes = db.prepare(`SELECT ${BLOB_BYTES} AS data FROM ${BLOB_FROM} WHERE d.id = ?`);
      const setDigest = db.prepare("UPDATE blobs SET sha256 = ? WHERE id = ? AND sha256 IS NULL");
      for (const id of b.noDigest) {
        const r = bytes.get(id) as { data: Uint8Array } | undefined;
        if (r) {
          setDigest.run(sha256(r.data), id);
          done(`blob ${id}: digest recorded`);
        }
      }
      for (const id of b.extraIndex) {
        db.prepare("DELETE FROM fts_header WHERE rowid = ?").run(id);
        db.prepare("DELETE FROM fts_body WHERE rowid = ?").run(id);
        db.prepare("DELETE FROM fts_indexed WHERE blob_id = ?").run(id);
        db.prepare("DELETE FROM fts_pending WHERE blob_id = ?").run(id);
        done(`full-text index: rows of blob ${id} removed`);
      }
      const pend = db.prepare("INSERT OR IGNORE INTO fts_pending (blob_id) VALUES (?)");
      for (const id of b.unindexed) {
        pend.run(id);
        done(`full-text index: blob ${id} queued for indexing (the server indexes it)`);
      }
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  } finally {
    db.close();
  }
  return n;
}
