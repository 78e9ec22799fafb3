/**
 * The full-text index of message text for IMAP SEARCH (FTS5, migration 2 in `schema.ts`).
 *
 * Choices, and why:
 * - **Trigram tokenizer** (case-insensitive). IMAP SEARCH matches substrings ("ser-fro"
 *   finds "user-from"), which word tokenizers such as unicode61 cannot answer without false
 *   negatives. Strings shorter than three characters cannot use it: the caller scans then.
 * - **Without positions** (`detail = column`, migration 3). A query is the AND of the
 *   string's trigrams (at most `MAX_QUERY_TRIGRAMS`): a row holding the string holds each
 *   of them, so nothing is missed, and the rare row holding them apart is dropped by the
 *   confirmation. Position lists were most of the index's size and insertion time:
 *   without them indexing runs about 1.5-2x faster (issue 13, item 19).
 * - **The index is a pre-filter.** It returns candidate UIDs, a superset of the true
 *   matches, which the IMAP evaluator confirms on the message itself. The indexed text is
 *   made by the same functions the evaluator uses (`../search_text.ts`), lower-cased the
 *   same way, so no match is lost; the confirmation keeps the answers identical to a scan.
 *   Diacritics are kept (no `remove_diacritics`): SEARCH is a substring match, "jurgen"
 *   does not find "jürgen" with or without the index.
 * - **Contentless** (`content=''`, `contentless_delete=1`): the text is not stored twice;
 *   rows are keyed by blob id (copies of a message share one row).
 * - **Indexed lazily, off the delivery path.** Delivery only records the blob in
 *   `fts_pending` (a trigger); `indexPending` (a write op the store schedules after new
 *   mail, in time-boxed steps in the writer worker, back to back while the writer is
 *   otherwise quiet) parses and indexes. Bulk jobs (`import`) run the steps themselves
 *   after each batch (`flushTextIndex`), so their mail is searchable when they return.
 *   (Not inside each append: FTS5 flushes a segment at every savepoint, one per message.) Until then a pending message is always a
 *   candidate, so searches stay correct while the index catches up — and deliveries never
 *   wait for MIME parsing or trigram insertion (measured: indexing inside the delivery
 *   batches cost imaptest stress about 30% of its commands/s).
 * - Very large texts are indexed only in part and flagged `partial`: always candidates.
 *
 * @module
 */
import { parseMime } from "../../core/mime/mod.ts";
import type { TextQuery } from "../mod.ts";
import { bodyText, indexedHeaderText } from "../search_text.ts";
import type { WriteContext } from "./writes.ts";

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
 * Migration 3: the index without position lists (see the module note). Everything is
 * indexed again, in the background, after the upgrade.
 */
export const FTS_DETAIL_COLUMN_MIGRATION = `
  DROP TABLE fts;
  CREATE VIRTUAL TABLE fts USING fts5(
    header, body,
    tokenize = 'trigram case_sensitive 0',
    detail = column, content = '', contentless_delete = 1
  );
  -- Merge segments in larger groups: about 10% less work per message indexed.
  INSERT INTO fts (fts, rank) VALUES ('automerge', 8);
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
    const row = ctx.sql.get("SELECT data FROM blob_data WHERE id = ?").get(id) as
      | { data: Uint8Array }
      | undefined;
    done++;
    if (row) indexBlob(ctx, id, row.data);
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
  ctx.sql.get("INSERT OR REPLACE INTO fts (rowid, header, body) VALUES (?, ?, ?)")
    .run(id, header, body);
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
 * The FTS5 MATCH expression for a query, or null when the index cannot narrow it (too
 * short): the AND of the lower-cased string's trigrams (code points, as the tokenizer
 * counts), each quoted, spread over the string when there are more than
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
  const all = `(${[...terms].join(" AND ")})`;
  switch (q.part) {
    case "header":
      return `header : ${all}`;
    case "body":
      return `body : ${all}`;
    case "text":
      return `{header body} : ${all}`;
  }
}

/** SQL for the candidate UIDs of one mailbox (parameters: mailbox id, MATCH expression). */
export const CANDIDATES_SQL = `
  SELECT uid FROM messages WHERE mailbox_id = ? AND (
    blob_id IN (SELECT rowid FROM fts WHERE fts MATCH ?)
    OR blob_id IN (SELECT blob_id FROM fts_pending)
    OR blob_id IN (SELECT blob_id FROM fts_indexed WHERE partial = 1)
  ) ORDER BY uid`;
