/**
 * Conversation threads (RFC 8621 §3) in SQLite: the migration, the assignment at delivery,
 * the backfill of mail stored before threads existed, and the reads JMAP needs.
 *
 * Invariants and choices:
 * - A thread belongs to one account; its id is the blob id of the first Email placed in it,
 *   so thread ids never change once given (stable across restarts; no renumbering).
 * - An Email (a blob of an account) gets its thread once, when its first copy is placed in
 *   the account (`assignThread`, inside the delivery's transaction); copies keep it.
 * - It joins an existing thread when one of its In-Reply-To/References ids names a message
 *   of that thread AND the base subjects (Re:/Fwd: and list tags removed, case folded)
 *   match, like Gmail and Stalwart. Subject alone never merges; a reference alone with a
 *   different subject starts a new thread. Threads are never merged or split later.
 * - Only the header block is parsed (at most `MAX_HEADER_BYTES`), and at most
 *   `MAX_REFERENCES` ids are looked up per message: bounded work on the delivery path.
 * - Rows of expunged Emails stay (a later reply still finds its thread); they disappear with
 *   the account (ON DELETE CASCADE). Every read joins `messages`, so stale rows are unseen.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { threadHeaders } from "../thread_headers.ts";
import type { EmailCopy, MailboxPageQuery } from "../mod.ts";
import { parseFlags, type Row, Statements } from "./rows.ts";
import { messageOrNull } from "./blobs.ts";

/** Migration: the thread tables; mail already stored is threaded at the next open. */
export const THREADS_MIGRATION = `
  CREATE TABLE email_threads (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    blob_id    INTEGER NOT NULL,
    thread_id  INTEGER NOT NULL,
    PRIMARY KEY (account_id, blob_id)
  ) WITHOUT ROWID;
  CREATE INDEX email_threads_thread ON email_threads(account_id, thread_id);
  -- Message-IDs seen in an account, with the thread and base subject of their message.
  CREATE TABLE thread_message_ids (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    thread_id  INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    PRIMARY KEY (account_id, message_id)
  ) WITHOUT ROWID;
  -- Email/get by id (probed per mailbox of the account) and distinct counts per mailbox.
  CREATE INDEX messages_mailbox_blob ON messages(mailbox_id, blob_id);
  -- Email/query by mailbox sorted by receivedAt or size, LIMIT without sorting everything.
  CREATE INDEX messages_date ON messages(mailbox_id, internal_date, blob_id);
  CREATE INDEX messages_size ON messages(mailbox_id, size, blob_id);
  INSERT INTO meta (key, value) VALUES ('threads_backfill', 1);
`;

/** Gives blob `blobId` its thread in the account, once; returns the thread id. */
export function assignThread(
  sql: Statements,
  accountId: number,
  blobId: number,
  message: Uint8Array,
): number {
  const known = sql.get("SELECT thread_id FROM email_threads WHERE account_id = ? AND blob_id = ?")
    .get(accountId, blobId) as Row | undefined;
  if (known) return known.thread_id as number;
  const h = threadHeaders(message);
  let threadId = blobId;
  const byId = sql.get(
    "SELECT thread_id, subject FROM thread_message_ids WHERE account_id = ? AND message_id = ?",
  );
  // The nearest ancestor first (References ends with the parent).
  for (let i = h.refs.length - 1; i >= 0; i--) {
    const r = byId.get(accountId, h.refs[i]) as Row | undefined;
    if (r && r.subject === h.subject) {
      threadId = r.thread_id as number;
      break;
    }
  }
  sql.get("INSERT INTO email_threads (account_id, blob_id, thread_id) VALUES (?, ?, ?)")
    .run(accountId, blobId, threadId);
  const addId = sql.get(
    `INSERT OR IGNORE INTO thread_message_ids (account_id, message_id, thread_id, subject)
     VALUES (?, ?, ?, ?)`,
  );
  for (const id of h.ids) addId.run(accountId, id, threadId, h.subject);
  return threadId;
}

/**
 * Threads the mail stored before the thread tables existed (once, after the migration),
 * in blob order, which is arrival order, so parents are threaded before their replies.
 */
export function backfillThreads(db: DatabaseSync): void {
  const flag = db.prepare("SELECT value FROM meta WHERE key = 'threads_backfill'").get();
  if (!flag) return;
  const sql = new Statements(db);
  db.exec("BEGIN IMMEDIATE");
  try {
    const rows = db.prepare(
      `SELECT DISTINCT b.account_id, m.blob_id FROM messages m
       JOIN mailboxes b ON b.id = m.mailbox_id ORDER BY m.blob_id`,
    ).all() as Row[];
    for (const r of rows) {
      const data = messageOrNull(sql, r.blob_id as number);
      if (!data) continue;
      assignThread(sql, r.account_id as number, r.blob_id as number, data);
    }
    db.exec("DELETE FROM meta WHERE key = 'threads_backfill'");
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

// ---------------------------------------------------------------- reads

const COPY_COLUMNS = `m.mailbox_id, m.uid, m.modseq, m.flags, m.internal_date, m.size,
  m.blob_id, coalesce(t.thread_id, m.blob_id) AS thread_id`;
const COPY_JOIN = `JOIN mailboxes b ON b.id = m.mailbox_id AND b.account_id = ?1
  LEFT JOIN email_threads t ON t.account_id = ?1 AND t.blob_id = m.blob_id`;

function toCopy(r: Row): EmailCopy {
  return {
    mailboxId: r.mailbox_id as number,
    uid: r.uid as number,
    modseq: r.modseq as number,
    flags: parseFlags(r.flags as string),
    internalDate: r.internal_date as number,
    size: r.size as number,
    blobId: r.blob_id as number,
    threadId: r.thread_id as number,
  };
}

/** Every copy of the given blobs in the account's mailboxes. */
export function emailCopies(read: Statements, accountId: number, blobIds: number[]): EmailCopy[] {
  if (blobIds.length === 0) return [];
  return (read.get(
    `SELECT ${COPY_COLUMNS} FROM messages m ${COPY_JOIN}
     WHERE m.blob_id IN (SELECT value FROM json_each(?2))`,
  ).all(accountId, JSON.stringify(blobIds)) as Row[]).map(toCopy);
}

/** Every copy of the Emails of the given threads, in the account's mailboxes. */
export function threadCopies(
  read: Statements,
  accountId: number,
  threadIds: number[],
): EmailCopy[] {
  if (threadIds.length === 0) return [];
  return (read.get(
    `SELECT ${COPY_COLUMNS} FROM email_threads t
     JOIN messages m ON m.blob_id = t.blob_id
     JOIN mailboxes b ON b.id = m.mailbox_id AND b.account_id = ?1
     WHERE t.account_id = ?1 AND t.thread_id IN (SELECT value FROM json_each(?2))`,
  ).all(accountId, JSON.stringify(threadIds)) as Row[]).map(toCopy);
}

/** Every copy in the account (with its thread), mailbox by mailbox. */
export function accountCopies(read: Statements, accountId: number): EmailCopy[] {
  const stmt = read.get(`SELECT ${COPY_COLUMNS} FROM messages m ${COPY_JOIN}`);
  return (stmt.all(accountId) as Row[]).map(toCopy);
}

/** Positions up to which a page is found by walking the index (cheap, exact with copies). */
const WALK_LIMIT = 2000;

/**
 * One page of a mailbox's (or, with `mailboxId` null, the whole account's) Emails sorted by
 * receivedAt or size (ties: blob id), read in index order; blobs with several copies (in
 * several mailboxes, or IMAP COPY into the same one) count once, and with
 * `collapseThreads` only the first Email of each thread counts (RFC 8621 §4.4.3). Near
 * the top the order is walked, skipping what does not count; deeper, without collapsing,
 * SQL's OFFSET is used when there are no second copies (distinct count = message count).
 * `total` counts what the page is taken from.
 */
export function mailboxPage(read: Statements, q: MailboxPageQuery): {
  blobIds: number[];
  total: number | null;
} {
  const col = q.sort === "size" ? "size" : "internal_date";
  const dir = q.ascending ? "ASC" : "DESC";
  const one = q.mailboxId !== null;
  // One mailbox: the (mailbox_id, col, blob_id) index gives the order without sorting.
  const index = one ? `INDEXED BY messages_${q.sort === "size" ? "size" : "date"}` : "";
  const order = `ORDER BY m.${col} ${dir}, m.blob_id ${dir}`;
  const collapse = q.collapseThreads === true;
  const scope = one ? q.mailboxId : q.accountId;
  const where = one ? "m.mailbox_id = ?" : "b.account_id = ?";
  const threadOf =
    `LEFT JOIN email_threads t ON t.account_id = b.account_id AND t.blob_id = m.blob_id`;
  const from = `FROM messages m ${index} JOIN mailboxes b ON b.id = m.mailbox_id
     ${collapse ? threadOf : ""} WHERE ${where}`;
  const distinct = () =>
    (read.get(
      `SELECT count(DISTINCT ${collapse ? "coalesce(t.thread_id, m.blob_id)" : "m.blob_id"})
       AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       ${collapse ? threadOf : ""} WHERE ${where}`,
    ).get(scope) as Row).n as number;
  let total: number | null = q.total ? distinct() : null;
  if (!collapse && q.position + q.limit > WALK_LIMIT) {
    total ??= distinct();
    const counted = read.get(
      `SELECT sum(messages) AS n FROM mailboxes WHERE ${one ? "id" : "account_id"} = ?`,
    ).get(scope) as Row;
    if (counted.n === total) {
      const rows = read.get(`SELECT m.blob_id ${from} ${order} LIMIT ? OFFSET ?`)
        .all(scope, q.limit, q.position) as Row[];
      return { blobIds: rows.map((r) => r.blob_id as number), total: q.total ? total : null };
    }
  }
  const seen = new Set<number>();
  const blobIds: number[] = [];
  let at = 0;
  const walk = read.get(
    `SELECT m.blob_id${collapse ? ", coalesce(t.thread_id, m.blob_id) AS thread_id" : ""}
     ${from} ${order}`,
  );
  for (const r of walk.iterate(scope) as Iterable<Row>) {
    // Copies of one blob share its thread, so collapsing also drops second copies.
    const key = (collapse ? r.thread_id : r.blob_id) as number;
    if (seen.has(key)) continue;
    seen.add(key);
    if (at++ < q.position) continue;
    if (blobIds.length >= q.limit) break;
    blobIds.push(r.blob_id as number);
  }
  return { blobIds, total: q.total ? total : null };
}
