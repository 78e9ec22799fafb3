/**
 * The full-text index of message text for IMAP SEARCH (FTS5, migration 2 in `schema.ts`).
 *
 * Choices, and why:
 * - **Trigram tokenizer** (case-insensitive). IMAP SEARCH matches substrings ("ser-fro"
 *   finds "user-from"), which word tokenizers such as unicode61 cannot answer without false
 *   negatives. Strings shorter than three characters cannot use it: the caller scans then.
 * - **Without positions** (`detail = none`, migration 3), in two tables, `fts_header` and
 *   `fts_body` (so HEADER and BODY keys stay as selective as with column filters, which
 *   `detail = none` lacks). A query is the AND of the string's trigrams (at most
 *   `MAX_QUERY_TRIGRAMS`): a row holding the string holds each of them, so nothing is
 *   missed, and the rare row holding them apart is dropped by the confirmation. Position
 *   lists were most of the index's size and insertion time: without them a message is
 *   indexed in about 0.4 instead of 0.6-0.8 ms of CPU (issue 13, item 19).
 * - **The index is a pre-filter.** It returns candidate UIDs, a superset of the true
 *   matches, which the IMAP evaluator confirms on the message itself. The indexed text is
 *   made by the same functions the evaluator uses (`mime/search_text.ts`), lower-cased the
 *   same way, so no match is lost; the confirmation keeps the answers identical to a scan.
 *   Diacritics are kept (no `remove_diacritics`): SEARCH is a substring match, "jurgen"
 *   does not find "jürgen" with or without the index.
 * - **Contentless** (`content=''`, `contentless_delete=1`): the text is not stored twice;
 *   rows are keyed by blob id (copies of a message share one row).
 * - **Indexed lazily, off the delivery path.** Delivery only records the blob in
 *   `fts_pending` (a trigger); `indexPending` (a write op the store schedules after new
 *   mail, in time-boxed steps in the writer worker, back to back while the writer is
 *   otherwise quiet) parses and indexes. Bulk jobs (`import`) run the steps themselves
 *   after each batch (`flushTextIndex`), so their mail is searchable when they return
 *   (not inside each append: FTS5 flushes a segment at every savepoint, one per message).
 *   Until then a pending message is always a candidate, so searches stay correct while
 *   the index catches up — and deliveries never wait for MIME parsing or trigram
 *   insertion (measured: indexing inside the delivery batches cost imaptest stress about
 *   30% of its commands/s).
 * - Very large texts are indexed only in part and flagged `partial`: always candidates.
 *
 * @module
 */
import { parseMime } from "../../mime/mod.ts";
import type { TextQuery } from "../mod.ts";
import { bodyText, indexedHeaderText } from "../../mime/search_text.ts";
import type { WriteContext } from "./writes/context.ts";
import { messageOrNull } from "./blobs.ts";

/** Characters of body text indexed per message; beyond it the row is partial. */
const MAX_BODY_CHARS = 2_000_000;
/** Shortest string a trigram query can look up. */
const MIN_QUERY_CHARS = 3;
/** Trigrams ANDed per query: enough to be selective, bounded work for a long string. */
const MAX_QUERY_TRIGRAMS = 12;

/** The migration that creates the index (existing mail becomes pending). */
export const FTS_MIGRATION = `
  CREATE VIRTUAL TABLE fts USING fts5(
    header, body,
    tokenize = 'trigram case_sensitive 0',
    content = '', contentless_delete = 1
  );
  -- Blobs in the index; partial = 1 when only part of the text is (always a candidate).
  CREATE TABLE fts_indexed (
    blob_id INTEGER PRIMARY KEY,
    partial INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX fts_indexed_partial ON fts_indexed(blob_id) WHERE partial = 1;
  -- Blobs of messages waiting to be indexed (always candidates meanwhile).
  CREATE TABLE fts_pending (blob_id INTEGER PRIMARY KEY);
  INSERT OR IGNORE INTO fts_pending SELECT blob_id FROM messages;

  CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages
  WHEN NOT EXISTS (SELECT 1 FROM fts_indexed WHERE blob_id = NEW.blob_id) BEGIN
    INSERT OR IGNORE INTO fts_pending (blob_id) VALUES (NEW.blob_id);
  END;
  CREATE TRIGGER blobs_fts_ad AFTER DELETE ON blobs BEGIN
    DELETE FROM fts_pending WHERE blob_id = OLD.id;
    DELETE FROM fts WHERE rowid = OLD.id;
    DELETE FROM fts_indexed WHERE blob_id = OLD.id;
  END;
`;

/**
 * Migration 3: the index without position lists, header and body apart (see the module
 * note). Everything is indexed again, in the background, after the upgrade.
 */
export const FTS_NO_POSITIONS_MIGRATION = `
  DROP TRIGGER blobs_fts_ad;
  DROP TABLE fts;
  CREATE VIRTUAL TABLE fts_header USING fts5(
    text, tokenize = 'trigram case_sensitive 0',
    detail = none, content = '', contentless_delete = 1
  );
  CREATE VIRTUAL TABLE fts_body USING fts5(
    text, tokenize = 'trigram case_sensitive 0',
    detail = none, content = '', contentless_delete = 1
  );
  -- Merge segments in larger groups: about 10% less work per message indexed.
  INSERT INTO fts_header (fts_header, rank) VALUES ('automerge', 8);
  INSERT INTO fts_body (fts_body, rank) VALUES ('automerge', 8);
  CREATE TRIGGER blobs_fts_ad AFTER DELETE ON blobs BEGIN
    DELETE FROM fts_pending WHERE blob_id = OLD.id;
    DELETE FROM fts_header WHERE rowid = OLD.id;
    DELETE FROM fts_body WHERE rowid = OLD.id;
    DELETE FROM fts_indexed WHERE blob_id = OLD.id;
  END;
  DELETE FROM fts_indexed;
  INSERT OR IGNORE INTO fts_pending SELECT blob_id FROM messages;
`;

/**
 * Write op: indexes pending blobs, oldest first, until `max` are done or `budgetMs` has
 * passed (a step must not hold the write transaction long). Returns how many are left.
 */
export function indexPending(ctx: WriteContext, a: { max: number; budgetMs: number }): number {
  const started = Date.now();
  const ids = ctx.sql.get("SELECT blob_id FROM fts_pending ORDER BY blob_id LIMIT ?")
    .all(Math.max(1, a.max)) as Array<{ blob_id: number }>;
  let done = 0;
  for (const { blob_id: id } of ids) {
    const data = messageOrNull(ctx.sql, id);
    done++;
    if (data) indexBlob(ctx, id, data);
    else ctx.sql.get("DELETE FROM fts_pending WHERE blob_id = ?").run(id);
    if (Date.now() - started >= a.budgetMs) break;
  }
  if (done < ids.length || ids.length === a.max) {
    return (ctx.sql.get("SELECT count(*) AS n FROM fts_pending").get() as { n: number }).n;
  }
  return 0;
}

/** Indexes one blob now (and takes it off the pending list), in the caller's transaction. */
function indexBlob(ctx: WriteContext, id: number, bytes: Uint8Array): void {
  ctx.sql.get("DELETE FROM fts_pending WHERE blob_id = ?").run(id);
  const { header, body, partial } = indexText(bytes);
  ctx.sql.get("INSERT OR REPLACE INTO fts_header (rowid, text) VALUES (?, ?)").run(id, header);
  ctx.sql.get("INSERT OR REPLACE INTO fts_body (rowid, text) VALUES (?, ?)").run(id, body);
  // An upsert, not INSERT OR REPLACE: with the partial index on fts_indexed, REPLACE
  // doubled the cost of indexing a message (measured: 1.0 vs 0.5 ms).
  ctx.sql.get(
    `INSERT INTO fts_indexed (blob_id, partial) VALUES (?, ?)
     ON CONFLICT (blob_id) DO UPDATE SET partial = excluded.partial`,
  ).run(id, partial ? 1 : 0);
}

/** The header and body text to index for one message. */
function indexText(bytes: Uint8Array): { header: string; body: string; partial: boolean } {
  try {
    const root = parseMime(bytes);
    let body = bodyText(bytes, root);
    const partial = body.length > MAX_BODY_CHARS;
    if (partial) body = body.slice(0, MAX_BODY_CHARS);
    return { header: indexedHeaderText(root), body, partial };
  } catch {
    return { header: "", body: "", partial: true }; // unparseable: always a candidate
  }
}

/**
 * The FTS5 MATCH expression for a query (for either table), or null when the index cannot
 * narrow it (too short): the AND of the lower-cased string's trigrams (code points, as the
 * tokenizer counts), each quoted, spread over the string when there are more than
 * `MAX_QUERY_TRIGRAMS`.
 */
export function matchExpression(q: TextQuery): string | null {
  const chars = [...q.value.toLowerCase()];
  if (chars.length < MIN_QUERY_CHARS) return null;
  const count = chars.length - 2;
  const picks = Math.min(count, MAX_QUERY_TRIGRAMS);
  const terms = new Set<string>();
  for (let k = 0; k < picks; k++) {
    const at = picks === 1 ? 0 : Math.round(k * (count - 1) / (picks - 1));
    const tri = chars.slice(at, at + 3).join("");
    terms.add(`"${tri.replaceAll('"', '""')}"`);
  }
  return [...terms].join(" AND ");
}

const ALWAYS = `OR blob_id IN (SELECT blob_id FROM fts_pending)
    OR blob_id IN (SELECT blob_id FROM fts_indexed WHERE partial = 1)`;

/**
 * SQL for the candidate UIDs of one mailbox for a query on `part`; parameters: mailbox
 * id, then the MATCH expression (twice for "text": header or body).
 */
export const CANDIDATES_SQL: Readonly<Record<TextQuery["part"], string>> = {
  header: `SELECT uid FROM messages WHERE mailbox_id = ? AND (
    blob_id IN (SELECT rowid FROM fts_header WHERE fts_header MATCH ?) ${ALWAYS}
  ) ORDER BY uid`,
  body: `SELECT uid FROM messages WHERE mailbox_id = ? AND (
    blob_id IN (SELECT rowid FROM fts_body WHERE fts_body MATCH ?) ${ALWAYS}
  ) ORDER BY uid`,
  text: `SELECT uid FROM messages WHERE mailbox_id = ? AND (
    blob_id IN (SELECT rowid FROM fts_header WHERE fts_header MATCH ?)
    OR blob_id IN (SELECT rowid FROM fts_body WHERE fts_body MATCH ?) ${ALWAYS}
  ) ORDER BY uid`,
};
