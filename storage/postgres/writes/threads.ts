/**
 * Conversation threads (RFC 8621 §3) in PostgreSQL: the assignment at delivery and the
 * backfill of mail stored before the thread tables (migration 8 in ../schema.ts).
 * The same rules as SQLite's (storage/sqlite/threads.ts; the headers are read for both by
 * storage/thread_headers.ts):
 * - A thread belongs to one account; its id is the blob id of the first Email placed in it,
 *   so thread ids never change once given.
 * - An Email gets its thread once, when its first copy is placed in the account, inside the
 *   delivery's transaction and under the account's row lock (deliver and append take it), so
 *   a parent and its reply arriving at once on two nodes are threaded one after the other.
 * - It joins a thread when one of its In-Reply-To/References ids names a message of that
 *   thread AND the base subjects match; threads are never merged or split later.
 * - PostgreSQL text holds no NUL and only well-formed UTF-16 round-trips: ids holding NUL
 *   are skipped, the subject is made well-formed with NUL replaced, on every message alike.
 *
 * @module
 */
import { threadHeaders } from "../../thread_headers.ts";
import type { Db, Row } from "../rows.ts";
import { q, q1, type WriteContext } from "./context.ts";

/** A subject as PostgreSQL stores it (see the module doc). */
function storable(subject: string): string {
  return subject.toWellFormed().replaceAll("\u0000", "\ufffd");
}

/**
 * What threading reads of a message, as PostgreSQL stores it (see the module doc): its base
 * subject, the ids it refers to (parent last) and its own ids. Needs no lock: a delivery
 * computes it before taking any (deliver_one.ts).
 */
export function threadInputs(message: Uint8Array): {
  subject: string;
  refs: string[];
  ids: string[];
} {
  const h = threadHeaders(message);
  return {
    subject: storable(h.subject),
    refs: h.refs.filter((id) => !id.includes("\u0000")),
    ids: h.ids.filter((id) => !id.includes("\u0000")),
  };
}

/** Gives blob `blobId` its thread in the account, once; returns the thread id. */
export async function assignThread(
  ctx: WriteContext,
  accountId: number,
  blobId: number,
  message: Uint8Array,
  later?: Array<Promise<unknown>>,
): Promise<number> {
  const { subject, refs, ids } = threadInputs(message);
  // Both reads in one round trip (context.ts `q` sends each at once, in order).
  const [known, ancestors] = await Promise.all([
    q1(ctx, "SELECT thread_id FROM email_threads WHERE account_id = $1 AND blob_id = $2", [
      accountId,
      blobId,
    ]),
    refs.length === 0 ? Promise.resolve([]) : q(
      ctx,
      `SELECT message_id, thread_id, subject FROM thread_message_ids
       WHERE account_id = $1 AND message_id = ANY($2::text[])`,
      [accountId, refs as never],
    ),
  ]);
  if (known) return known.thread_id as number;
  let threadId = blobId;
  const found = new Map(ancestors.map((r) => [r.message_id as string, r]));
  // The nearest ancestor first (References ends with the parent).
  for (let i = refs.length - 1; i >= 0; i--) {
    const r = found.get(refs[i]);
    if (r && r.subject === subject) {
      threadId = r.thread_id as number;
      break;
    }
  }
  // `later`: the caller awaits the inserts with its own next statements (one round trip).
  const inserts: Array<Promise<unknown>> = [
    q(ctx, "INSERT INTO email_threads (account_id, blob_id, thread_id) VALUES ($1, $2, $3)", [
      accountId,
      blobId,
      threadId,
    ]),
  ];
  if (ids.length > 0) {
    inserts.push(q(
      ctx,
      `INSERT INTO thread_message_ids (account_id, message_id, thread_id, subject)
       SELECT $1, id, $3, $4 FROM unnest($2::text[]) AS id ON CONFLICT DO NOTHING`,
      [accountId, ids as never, threadId, subject],
    ));
  }
  if (later) later.push(...inserts);
  else await Promise.all(inserts);
  return threadId;
}

/** Blobs threaded per round trip by the backfill. */
const BACKFILL_BATCH = 200;

/**
 * Threads the mail stored before the thread tables existed (once, after the migration set
 * the `threads_backfill` flag), in blob order, which is arrival order, so parents come before
 * their replies. One transaction holding the flag's row lock: a second node opening at once
 * waits, then finds the flag gone.
 */
export async function backfillThreads(db: Db): Promise<void> {
  await db.begin(async (tx) => {
    const ctx: WriteContext = { tx, now: Date.now, changes: [] };
    const flag = await q1(ctx, "SELECT value FROM meta WHERE key = 'threads_backfill' FOR UPDATE");
    if (!flag) return;
    let after = 0;
    for (;;) {
      // A batch is whole blobs, each with every account that holds a copy.
      const rows: Row[] = await q(
        ctx,
        `WITH ids AS (SELECT DISTINCT blob_id FROM messages WHERE blob_id > $1
           ORDER BY blob_id LIMIT $2)
         SELECT DISTINCT b.account_id, m.blob_id FROM messages m JOIN ids USING (blob_id)
           JOIN mailboxes b ON b.id = m.mailbox_id
         ORDER BY m.blob_id, b.account_id`,
        [after, BACKFILL_BATCH],
      );
      if (rows.length === 0) break;
      for (const r of rows) {
        // threadHeaders reads at most the first 64 KiB (and the 2 bytes of a blank line).
        const d = await q1(
          ctx,
          "SELECT substring(data FROM 1 FOR 65538) AS head FROM blobs WHERE id = $1",
          [
            r.blob_id as number,
          ],
        );
        if (!d) continue;
        await assignThread(ctx, r.account_id as number, r.blob_id as number, d.head as Uint8Array);
      }
      after = rows.at(-1)!.blob_id as number;
    }
    await q(ctx, "DELETE FROM meta WHERE key = 'threads_backfill'");
  });
}
