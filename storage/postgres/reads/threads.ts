/**
 * The reads JMAP needs of Emails and Threads (RFC 8621 §3, §4) in PostgreSQL: the copies of
 * blobs or threads in an account, and pages of a mailbox in receivedAt or size order. The
 * answers are SQLite's (storage/sqlite/threads.ts); each read is one statement, so one
 * committed snapshot.
 *
 * @module
 */
import type { EmailCopy, MailboxPageQuery } from "../../mod.ts";
import { parseFlags, type Read, type Row } from "../rows.ts";

const COPY_COLUMNS = `m.mailbox_id, m.uid, m.modseq, m.flags, m.internal_date, m.size,
  m.blob_id, coalesce(t.thread_id, m.blob_id) AS thread_id`;
const COPY_JOIN = `JOIN mailboxes b ON b.id = m.mailbox_id AND b.account_id = $1
  LEFT JOIN email_threads t ON t.account_id = $1 AND t.blob_id = m.blob_id`;

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
export async function emailCopies(
  read: Read,
  accountId: number,
  blobIds: number[],
): Promise<EmailCopy[]> {
  if (blobIds.length === 0) return [];
  return (await read(
    `SELECT ${COPY_COLUMNS} FROM messages m ${COPY_JOIN} WHERE m.blob_id = ANY($2::bigint[])`,
    [accountId, blobIds],
  )).map(toCopy);
}

/** Every copy of the Emails of the given threads, in the account's mailboxes. */
export async function threadCopies(
  read: Read,
  accountId: number,
  threadIds: number[],
): Promise<EmailCopy[]> {
  if (threadIds.length === 0) return [];
  return (await read(
    `SELECT ${COPY_COLUMNS} FROM email_threads t
     JOIN messages m ON m.blob_id = t.blob_id
     JOIN mailboxes b ON b.id = m.mailbox_id AND b.account_id = $1
     WHERE t.account_id = $1 AND t.thread_id = ANY($2::bigint[])`,
    [accountId, threadIds],
  )).map(toCopy);
}

/** Every copy in the account (with its thread). */
export async function accountCopies(read: Read, accountId: number): Promise<EmailCopy[]> {
  return (await read(`SELECT ${COPY_COLUMNS} FROM messages m ${COPY_JOIN}`, [accountId])).map(
    toCopy,
  );
}

/**
 * One page of a mailbox's (or, with `mailboxId` null, the whole account's) Emails sorted by
 * receivedAt or size (ties: blob id, the same direction). Blobs with several copies (in
 * several mailboxes, or IMAP COPY into the same one) count once, at the place of their
 * first copy in that order; with `collapseThreads` only the first Email of each thread
 * counts (RFC 8621 §4.4.3). Without second copies the page is read along the index
 * (LIMIT/OFFSET); otherwise the copies are made distinct first (DISTINCT ON).
 * `total` counts what the page is taken from.
 */
export async function mailboxPage(read: Read, q: MailboxPageQuery): Promise<{
  blobIds: number[];
  total: number | null;
}> {
  const col = q.sort === "size" ? "size" : "internal_date";
  const dir = q.ascending ? "ASC" : "DESC";
  const collapse = q.collapseThreads === true;
  const limit = Math.max(0, Math.trunc(q.limit));
  const position = Math.max(0, Math.trunc(q.position));
  const scope = q.mailboxId !== null ? q.mailboxId : q.accountId;
  const from = `FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
    LEFT JOIN email_threads t ON t.account_id = b.account_id AND t.blob_id = m.blob_id
    WHERE ${q.mailboxId !== null ? "m.mailbox_id" : "b.account_id"} = $1`;
  // Copies of one blob share its thread, so collapsing also drops second copies.
  const key = collapse ? "coalesce(t.thread_id, m.blob_id)" : "m.blob_id";
  const [counts] = await read(
    `SELECT count(DISTINCT ${key})::bigint AS n, count(*)::bigint AS copies ${from}`,
    [scope],
  );
  const total = q.total ? counts.n as number : null;
  const rows = counts.n === counts.copies
    // Every copy counts: the order of the index (mailbox_id, col, blob_id) gives the page.
    ? await read(
      `SELECT m.blob_id ${from} ORDER BY m.${col} ${dir}, m.blob_id ${dir} LIMIT $2 OFFSET $3`,
      [scope, limit, position],
    )
    : await read(
      `SELECT blob_id FROM (
         SELECT DISTINCT ON (${key}) m.blob_id, m.${col} AS k ${from}
         ORDER BY ${key}, m.${col} ${dir}, m.blob_id ${dir}
       ) d ORDER BY k ${dir}, blob_id ${dir} LIMIT $2 OFFSET $3`,
      [scope, limit, position],
    );
  return { blobIds: rows.map((r) => r.blob_id as number), total };
}
