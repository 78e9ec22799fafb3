/**
 * IMAP STORE and EXPUNGE as one statement each: server-side functions called outside any
 * explicit transaction (the statement is its own), so a command costs one round trip
 * instead of four (BEGIN, the lock group, the write group, COMMIT), and the mailbox's row
 * lock, which every other writer of that mailbox waits for, is held only while the
 * database works — not across round trips and JavaScript.
 *
 * The same rules as the statement-by-statement path (writes/flags.ts, writes/messages.ts),
 * which stays for COPY/MOVE and for the cases these functions hand back:
 * - Locks in the order of writes/context.ts: the account's change-log lock (change_log.ts),
 *   then the mailbox row (FOR NO KEY UPDATE); a missing mailbox answers 'missing'.
 * - STORE (RFC 9051 §6.4.6, RFC 7162 §3.1.3 UNCHANGEDSINCE): one new modseq for the whole
 *   command, only when some message's flags change; flags compare without regard to ASCII
 *   case. Flags with non-ASCII characters answer 'fallback' before anything is written
 *   (JavaScript's toLowerCase and SQL lower() may differ there): the caller runs the
 *   JavaScript path.
 * - EXPUNGE: the rows removed, a new modseq and their `expunged` records (RFC 7162 §3.2.10).
 * - APPEND (`denomail_append_one`, inside the caller's transaction, after the blob went in):
 *   deliver_sql.ts's `denomail_deliver_one` for a mailbox named by id — no INBOX fallback,
 *   a missing mailbox answers 'missing'; the account row is locked first, so the quota sees
 *   every committed octet. Holds the locks for this call and the COMMIT only.
 * - Counters and the change log are the existing triggers' work.
 * - Notifications: change_bus.ts's payload, {o: origin, c: [change]}, at most 400 UIDs each
 *   (under PostgreSQL's 8000-byte limit, as changePayloads splits them).
 *
 * @module
 */
import { type FlagUpdate, type FlagUpdateResult, type MailboxChange, StoreError } from "../mod.ts";
import { normalizeFlags } from "../names.ts";
import { CHANGE_LOG_LOCK_CLASS } from "./change_log.ts";
import { type Read, toMessage } from "./rows.ts";
import { checkUids } from "./writes/context.ts";

/** The NOTIFY channel (change_bus.ts CHANGE_CHANNEL; repeated: a migration never changes). */
const CHANNEL = "denomail_changes";

/** ASCII-only lower case (lower() follows the database's locale: 'I' is not 'i' in Turkish). */
const LOWER = (x: string) =>
  `translate(${x}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

/** Locks the mailbox as lockMailboxes does; sets `acc`, `ms` (its highest modseq). */
const LOCK_BOX = `
    SELECT m.account_id INTO acc FROM mailboxes m WHERE m.id = box;
    IF NOT FOUND THEN
      o_kind := 'missing';
      RETURN NEXT;
      RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (acc % 2147483647)::int);
    SELECT m.highest_modseq INTO ms FROM mailboxes m WHERE m.id = box FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      o_kind := 'missing';
      RETURN NEXT;
      RETURN;
    END IF;`;

/** Sends one change of `kind` for the UIDs `done` at modseq `ms`, 400 UIDs a notification. */
const NOTIFY = (kind: string) => `
    IF origin IS NOT NULL THEN
      FOR i IN 0 .. (cardinality(done) - 1) / 400 LOOP
        PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_build_array(
          json_build_object('kind', '${kind}', 'mailboxId', box,
            'uids', to_json(done[i * 400 + 1 : i * 400 + 400]), 'highestModseq', ms)))::text);
      END LOOP;
    END IF;`;

/** Migration: `denomail_store_flags(...)` and `denomail_expunge(...)`. */
export const IMAP_WRITES_MIGRATION = `
  CREATE FUNCTION denomail_store_flags(box bigint, uids bigint[], op text, fl text[],
    unchanged bigint, origin text)
  RETURNS TABLE(o_kind text, o_uid bigint, o_modseq bigint, o_flags text,
    o_internal_date bigint, o_size bigint, o_blob_id bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    acc bigint;
    ms bigint;
    fl_low text[] := ARRAY(SELECT ${LOWER("f")} FROM unnest(fl) f);
    done bigint[];
    nxt text[];
  BEGIN
    ${LOCK_BOX}
    IF EXISTS (SELECT 1 FROM messages m WHERE m.mailbox_id = box AND m.uid = ANY(uids)
        AND octet_length(m.flags) <> length(m.flags)) THEN
      o_kind := 'fallback';
      RETURN NEXT;
      RETURN;
    END IF;
    -- The new flags of each message not held back by UNCHANGEDSINCE; kept where they differ.
    SELECT coalesce(array_agg(c.uid ORDER BY c.uid), '{}'),
        coalesce(array_agg(array_to_string(c.nxt, ' ') ORDER BY c.uid), '{}')
      INTO done, nxt
      FROM (
        SELECT m.uid, m.cur, CASE op
          WHEN 'set' THEN fl
          WHEN 'add' THEN m.cur || ARRAY(SELECT x.f FROM unnest(fl) WITH ORDINALITY x(f, n)
            WHERE ${LOWER("x.f")} <> ALL (m.cur_low) ORDER BY x.n)
          ELSE ARRAY(SELECT x.f FROM unnest(m.cur) WITH ORDINALITY x(f, n)
            WHERE ${LOWER("x.f")} <> ALL (fl_low) ORDER BY x.n)
          END AS nxt, m.cur_low
        FROM (
          SELECT m.uid, string_to_array(m.flags, ' ') AS cur,
            ARRAY(SELECT ${LOWER("y")} FROM unnest(string_to_array(m.flags, ' ')) y) AS cur_low
          FROM messages m
          WHERE m.mailbox_id = box AND m.uid = ANY(uids)
            AND (unchanged IS NULL OR m.modseq <= unchanged)
        ) m
      ) c
      WHERE cardinality(c.nxt) <> cardinality(c.cur)
        OR EXISTS (SELECT 1 FROM unnest(c.nxt) z WHERE ${LOWER("z")} <> ALL (c.cur_low));
    IF cardinality(done) > 0 THEN
      UPDATE mailboxes m SET highest_modseq = m.highest_modseq + 1 WHERE m.id = box
        RETURNING m.highest_modseq INTO ms;
      UPDATE messages m SET flags = v.f, modseq = ms,
          seen = '\\Seen' = ANY(string_to_array(v.f, ' ')),
          deleted = '\\Deleted' = ANY(string_to_array(v.f, ' '))
        FROM unnest(done, nxt) AS v(u, f)
        WHERE m.mailbox_id = box AND m.uid = v.u;
      ${NOTIFY("flags")}
    END IF;
    RETURN QUERY
      SELECT CASE WHEN m.uid = ANY(done) THEN 'changed' ELSE 'failed' END, m.uid, m.modseq,
        m.flags, m.internal_date, m.size, m.blob_id
      FROM messages m
      WHERE m.mailbox_id = box AND (m.uid = ANY(done)
        OR (unchanged IS NOT NULL AND m.uid = ANY(uids) AND m.modseq > unchanged))
      ORDER BY m.uid;
  END $$;

  CREATE FUNCTION denomail_append_one(
    box bigint, blob bigint, msg_size bigint, fl text, is_seen boolean, is_deleted boolean,
    idate bigint, refs text[], ids text[], subj text, origin text,
    OUT o_status text, OUT o_detail text, OUT o_account bigint, OUT o_uid bigint,
    OUT o_modseq bigint, OUT o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    quota bigint;
    used bigint;
    tid bigint;
  BEGIN
    SELECT m.account_id INTO o_account FROM mailboxes m WHERE m.id = box;
    IF NOT FOUND THEN
      o_status := 'missing';
      RETURN;
    END IF;
    SELECT a.email, a.quota_bytes INTO o_detail, quota FROM accounts a WHERE a.id = o_account
      FOR NO KEY UPDATE;
    PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (o_account % 2147483647)::int);
    PERFORM 1 FROM mailboxes m WHERE m.id = box FOR NO KEY UPDATE;
    IF NOT FOUND THEN -- deleted since the lookup
      o_status := 'missing';
      RETURN;
    END IF;
    IF quota IS NOT NULL THEN
      SELECT coalesce(sum(m.size), 0) INTO used FROM mailboxes m WHERE m.account_id = o_account;
      IF used + msg_size > quota THEN
        o_status := 'quota';
        RETURN;
      END IF;
    END IF;
    IF cardinality(refs) > 0 THEN
      SELECT t.thread_id INTO tid
        FROM unnest(refs) WITH ORDINALITY AS r(id, n)
        JOIN thread_message_ids t ON t.account_id = o_account AND t.message_id = r.id
        WHERE t.subject = subj
        ORDER BY r.n DESC LIMIT 1;
    END IF;
    tid := coalesce(tid, blob);
    INSERT INTO email_threads (account_id, blob_id, thread_id) VALUES (o_account, blob, tid)
      ON CONFLICT DO NOTHING;
    IF cardinality(ids) > 0 THEN
      INSERT INTO thread_message_ids (account_id, message_id, thread_id, subject)
        SELECT o_account, i, tid, subj FROM unnest(ids) AS i ON CONFLICT DO NOTHING;
    END IF;
    UPDATE mailboxes m SET uid_next = m.uid_next + 1, highest_modseq = m.highest_modseq + 1
      WHERE m.id = box
      RETURNING m.uid_next - 1, m.highest_modseq, m.uid_validity
      INTO o_uid, o_modseq, o_uid_validity;
    INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
        blob_id)
      VALUES (box, o_uid, o_modseq, fl, is_seen, is_deleted, idate, msg_size, blob);
    IF origin IS NOT NULL THEN
      PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_build_array(
        json_build_object('kind', 'append', 'mailboxId', box,
          'uids', json_build_array(o_uid), 'highestModseq', o_modseq)))::text);
    END IF;
    o_status := 'ok';
  END $$;

  CREATE FUNCTION denomail_expunge(box bigint, uids bigint[], origin text)
  RETURNS TABLE(o_kind text, o_uid bigint, o_modseq bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    acc bigint;
    ms bigint;
    done bigint[];
  BEGIN
    ${LOCK_BOX}
    WITH d AS (DELETE FROM messages m WHERE m.mailbox_id = box AND m.uid = ANY(uids)
      RETURNING m.uid)
    SELECT coalesce(array_agg(d.uid ORDER BY d.uid), '{}') INTO done FROM d;
    IF cardinality(done) = 0 THEN
      RETURN;
    END IF;
    UPDATE mailboxes m SET highest_modseq = m.highest_modseq + 1 WHERE m.id = box
      RETURNING m.highest_modseq INTO ms;
    INSERT INTO expunged (mailbox_id, uid, modseq) SELECT box, u, ms FROM unnest(done) u
      ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq;
    ${NOTIFY("expunge")}
    RETURN QUERY SELECT 'expunged'::text, u, ms FROM unnest(done) u;
  END $$;
`;

/** What a one-statement write returns: its value and the changes to publish locally. */
export interface Called<R> {
  value: R;
  changes: MailboxChange[];
}

function missing(mailboxId: number): never {
  throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
}

function nonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** IMAP STORE in one statement; null when the JavaScript path must run (see above). */
export async function storeFlags(
  run: Read,
  origin: string | null,
  u: FlagUpdate,
): Promise<Called<FlagUpdateResult> | null> {
  checkUids(u.uids);
  const flags = normalizeFlags(u.flags);
  if (u.op !== "set" && u.op !== "add" && u.op !== "remove") return null; // JS says invalid
  if (flags.some(nonAscii)) return null;
  const rows = await run(
    "SELECT * FROM denomail_store_flags($1, $2::bigint[], $3, $4::text[], $5, $6)",
    [u.mailboxId, u.uids, u.op, flags as never, u.unchangedSince ?? null, origin],
  );
  if (rows[0]?.o_kind === "missing") missing(u.mailboxId);
  if (rows[0]?.o_kind === "fallback") return null;
  const result: FlagUpdateResult = { changed: [], failed: [] };
  for (const r of rows) {
    if (r.o_kind === "failed") result.failed.push(r.o_uid as number);
    else {
      result.changed.push(toMessage({
        mailbox_id: u.mailboxId,
        uid: r.o_uid,
        modseq: r.o_modseq,
        flags: r.o_flags,
        internal_date: r.o_internal_date,
        size: r.o_size,
        blob_id: r.o_blob_id,
      }));
    }
  }
  const changes: MailboxChange[] = result.changed.length === 0 ? [] : [{
    kind: "flags",
    mailboxId: u.mailboxId,
    uids: result.changed.map((m) => m.uid),
    highestModseq: result.changed[0].modseq,
  }];
  return { value: result, changes };
}

/** IMAP EXPUNGE of these UIDs in one statement; resolves to the UIDs removed. */
export async function expunge(
  run: Read,
  origin: string | null,
  mailboxId: number,
  uids: number[],
): Promise<Called<number[]>> {
  checkUids(uids);
  const rows = await run("SELECT * FROM denomail_expunge($1, $2::bigint[], $3)", [
    mailboxId,
    uids,
    origin,
  ]);
  if (rows[0]?.o_kind === "missing") missing(mailboxId);
  const removed = rows.map((r) => r.o_uid as number);
  const changes: MailboxChange[] = removed.length === 0 ? [] : [{
    kind: "expunge",
    mailboxId,
    uids: removed,
    highestModseq: rows[0].o_modseq as number,
  }];
  return { value: removed, changes };
}
