/**
 * Full-text search for IMAP SEARCH on PostgreSQL: a pre-filter, like SQLite's FTS index.
 *
 * Each message blob gets a `blob_text` row after it is stored (search_index.ts; a message not
 * indexed yet is always a candidate): its header and body text made by the same functions
 * the IMAP evaluator uses (`mime/search_text.ts`, already lower-cased
 * with `toLowerCase`). A query is the lower-cased string found with `LIKE '%…%'` (its `%`, `_`
 * and `\` escaped) — a plain substring test on characters, independent of the locale — so
 * every true match is a candidate; the IMAP evaluator confirms each on the message, keeping
 * answers equal to a scan.
 *
 * Speed: where the pg_trgm extension could be installed (migration 13; Debian's postgresql
 * package ships it), GIN trigram indexes on `blob_text` answer `LIKE '%…%'` for needles of 3
 * characters or more without reading every text; otherwise, and for shorter needles, the
 * mailbox's texts are read. Text is made after the delivery, by the background indexer (as
 * SQLite defers it), so a delivery pays neither the MIME parse nor the trigram index.
 *
 * PostgreSQL text holds no NUL: NULs in the text become spaces, and a query holding NUL is
 * not narrowed (null: the caller scans). Texts past `MAX_BODY_CHARS` are cut and flagged
 * `partial`; partial and unparseable messages are always candidates.
 *
 * @module
 */
import { parseMime } from "../../mime/mod.ts";
import { bodyText, indexedHeaderText } from "../../mime/search_text.ts";
import type { TextQuery } from "../mod.ts";

/** Characters of body text kept per message; beyond it the row is partial. */
const MAX_BODY_CHARS = 2_000_000;

function noNul(s: string): string {
  return s.includes("\u0000") ? s.replaceAll("\u0000", " ") : s;
}

/** The header and body text searched for one message. */
export function searchableText(bytes: Uint8Array): {
  header: string;
  body: string;
  partial: boolean;
} {
  try {
    const root = parseMime(bytes);
    let body = bodyText(bytes, root);
    const partial = body.length > MAX_BODY_CHARS;
    if (partial) body = body.slice(0, MAX_BODY_CHARS);
    return { header: noNul(indexedHeaderText(root)), body: noNul(body), partial };
  } catch {
    return { header: "", body: "", partial: true }; // unparseable: always a candidate
  }
}

/**
 * The LIKE pattern of the search string (`%needle%`, LIKE's `\`, `%` and `_` escaped with
 * `\`, its default escape), or null when the pre-filter cannot narrow this query.
 */
export function needle(query: TextQuery): string | null {
  let v = query.value.toLowerCase();
  if (v === "" || v.includes("\u0000")) return null;
  // PostgreSQL's LIKE is O(text × pattern): a 20,000-character needle over a 2 MB text
  // took 14 s per row. A prefix still narrows (a text holding the string holds its start)
  // and the evaluator confirms, so the pattern is cut to MAX_NEEDLE_CHARS code points.
  if (v.length > MAX_NEEDLE_CHARS) v = [...v].slice(0, MAX_NEEDLE_CHARS).join("");
  return `%${v.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
}

/** Code points of a search string used in the LIKE pre-filter (see needle). */
const MAX_NEEDLE_CHARS = 64;

const TESTS: Readonly<Record<TextQuery["part"], string>> = {
  header: "t.header LIKE $2",
  body: "t.body LIKE $2",
  text: "(t.header LIKE $2 OR t.body LIKE $2)",
};

/** SQL for the candidate UIDs; parameters: mailbox id, the needle. */
export function candidatesSql(part: TextQuery["part"]): string {
  return `SELECT m.uid FROM messages m LEFT JOIN blob_text t ON t.blob_id = m.blob_id
    WHERE m.mailbox_id = $1 AND (t.blob_id IS NULL OR t.partial OR ${TESTS[part]})
    ORDER BY m.uid`;
}
