/**
 * Full-text search for IMAP SEARCH on PostgreSQL: a pre-filter, like SQLite's FTS index.
 *
 * Each message blob gets a `blob_text` row when it is stored: its header and body text made
 * by the same functions the IMAP evaluator uses (`mime/search_text.ts`, already lower-cased
 * with `toLowerCase`). A query is the lower-cased string found with `strpos` — a plain
 * substring test in the database, independent of its locale — so every true match is a
 * candidate; the IMAP evaluator confirms each on the message, keeping answers equal to a scan.
 *
 * Speed: `strpos` reads the text of every message of the mailbox (no index yet; a pg_trgm GIN
 * index on `blob_text` is the next step). Correctness first. Text is made at delivery, inside
 * the delivery's transaction (SQLite defers it; here it costs the delivery a MIME parse).
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

/** The search string, or null when the pre-filter cannot narrow this query. */
export function needle(query: TextQuery): string | null {
  const v = query.value.toLowerCase();
  return v === "" || v.includes("\u0000") ? null : v;
}

const TESTS: Readonly<Record<TextQuery["part"], string>> = {
  header: "strpos(t.header, $2) > 0",
  body: "strpos(t.body, $2) > 0",
  text: "strpos(t.header, $2) > 0 OR strpos(t.body, $2) > 0",
};

/** SQL for the candidate UIDs; parameters: mailbox id, the needle. */
export function candidatesSql(part: TextQuery["part"]): string {
  return `SELECT m.uid FROM messages m LEFT JOIN blob_text t ON t.blob_id = m.blob_id
    WHERE m.mailbox_id = $1 AND (t.blob_id IS NULL OR t.partial OR ${TESTS[part]})
    ORDER BY m.uid`;
}
