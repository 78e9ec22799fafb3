/**
 * The server-side half of a plain delivery (one target, writes/deliver_one.ts): one function
 * call takes the locks, checks the quota, threads the Email, reserves the UID and modseq,
 * inserts the message row and sends the change notification — one round trip instead of
 * some eight, all of them inside the mailbox's row lock, which every delivery into that
 * mailbox waits for (held until COMMIT).
 *
 * The same rules as the statement-by-statement path (writes/messages.ts, threads.ts,
 * context.ts), which stays for the other cases:
 * - Locks in the order of writes/context.ts: the account row (FOR NO KEY UPDATE), the
 *   account's change-log lock (change_log.ts), the mailbox row; all held until COMMIT, so
 *   UIDs and modseqs commit in increasing order and the quota sees every committed octet.
 * - The mailbox is the named one, else INBOX; no account or no INBOX answers 'not_found',
 *   a full quota 'quota' (with the account's address): nothing is written in either case
 *   and the caller rolls the transaction back.
 * - Threads (RFC 8621 §3): the nearest In-Reply-To/References id (the last of `refs`) known
 *   in the account with the same base subject gives the thread, else the blob's own id.
 * - Counters and the change log are the existing triggers' work (messages insert).
 * - The notification payload is change_bus.ts's format: {o: origin, c: [append change]}.
 *
 * @module
 */
import { CHANGE_LOG_LOCK_CLASS } from "./change_log.ts";

/** The NOTIFY channel (change_bus.ts CHANGE_CHANNEL; repeated: a migration never changes). */
const CHANNEL = "denomail_changes";

/** Migration: `denomail_deliver_one(...)`. */
export const DELIVER_ONE_MIGRATION = `
  CREATE FUNCTION denomail_deliver_one(
    acc bigint, box text, blob bigint, msg_size bigint, fl text, is_seen boolean,
    is_deleted boolean, idate bigint, refs text[], ids text[], subj text, origin text,
    OUT o_status text, OUT o_detail text, OUT o_mailbox bigint, OUT o_uid bigint,
    OUT o_modseq bigint, OUT o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    quota bigint;
    used bigint;
    tid bigint;
  BEGIN
    SELECT a.email, a.quota_bytes INTO o_detail, quota FROM accounts a WHERE a.id = acc
      FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      o_status := 'not_found';
      RETURN;
    END IF;
    SELECT m.id INTO o_mailbox FROM mailboxes m
      WHERE m.account_id = acc AND m.name = ANY(ARRAY[box, 'INBOX'])
      ORDER BY m.name = 'INBOX' LIMIT 1;
    IF o_mailbox IS NULL THEN
      o_status := 'not_found';
      RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (acc % 2147483647)::int);
    PERFORM 1 FROM mailboxes m WHERE m.id = o_mailbox FOR NO KEY UPDATE;
    IF NOT FOUND THEN -- deleted since the lookup
      o_status := 'not_found';
      RETURN;
    END IF;
    IF quota IS NOT NULL THEN
      SELECT coalesce(sum(m.size), 0) INTO used FROM mailboxes m WHERE m.account_id = acc;
      IF used + msg_size > quota THEN
        o_status := 'quota';
        RETURN;
      END IF;
    END IF;
    IF cardinality(refs) > 0 THEN
      SELECT t.thread_id INTO tid
        FROM unnest(refs) WITH ORDINALITY AS r(id, n)
        JOIN thread_message_ids t ON t.account_id = acc AND t.message_id = r.id
        WHERE t.subject = subj
        ORDER BY r.n DESC LIMIT 1;
    END IF;
    tid := coalesce(tid, blob);
    INSERT INTO email_threads (account_id, blob_id, thread_id) VALUES (acc, blob, tid)
      ON CONFLICT DO NOTHING;
    IF cardinality(ids) > 0 THEN
      INSERT INTO thread_message_ids (account_id, message_id, thread_id, subject)
        SELECT acc, i, tid, subj FROM unnest(ids) AS i ON CONFLICT DO NOTHING;
    END IF;
    UPDATE mailboxes m SET uid_next = m.uid_next + 1, highest_modseq = m.highest_modseq + 1
      WHERE m.id = o_mailbox
      RETURNING m.uid_next - 1, m.highest_modseq, m.uid_validity
      INTO o_uid, o_modseq, o_uid_validity;
    INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
        blob_id)
      VALUES (o_mailbox, o_uid, o_modseq, fl, is_seen, is_deleted, idate, msg_size, blob);
    IF origin IS NOT NULL THEN
      PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_build_array(
        json_build_object('kind', 'append', 'mailboxId', o_mailbox,
          'uids', json_build_array(o_uid), 'highestModseq', o_modseq)))::text);
    END IF;
    o_status := 'ok';
  END $$;
`;

/**
 * Migration: `denomail_deliver_one` with one statement fewer under the locks — the mailbox
 * row is locked by the UPDATE that reserves the UID and modseq (the same lock, in the same
 * order: account, change log, mailbox), after the quota check, which the account's lock
 * already guards; a mailbox deleted since the lookup still answers 'not_found' having
 * written nothing. Same signature and answers as before. Group commits (delivery_batch.ts)
 * pass no origin and send one notification per batch (`denomail_deliver_batch`).
 *
 * And message bytes compressed with lz4 where the server has it (PostgreSQL 14+, built
 * with lz4, as Debian's is): a fraction of pglz's CPU; rows already stored stay as they are.
 */
export const DELIVER_ONE_V2_MIGRATION = `
  DO $$
  BEGIN
    ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4;
    ALTER TABLE blob_text ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE blob_bodies ALTER COLUMN data SET COMPRESSION lz4;
  EXCEPTION WHEN feature_not_supported OR syntax_error OR undefined_object THEN
    RAISE NOTICE 'lz4 unavailable (%): message bytes stay compressed with pglz', SQLERRM;
  END $$;
  CREATE OR REPLACE FUNCTION denomail_deliver_one(
    acc bigint, box text, blob bigint, msg_size bigint, fl text, is_seen boolean,
    is_deleted boolean, idate bigint, refs text[], ids text[], subj text, origin text,
    OUT o_status text, OUT o_detail text, OUT o_mailbox bigint, OUT o_uid bigint,
    OUT o_modseq bigint, OUT o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    quota bigint;
    used bigint;
    tid bigint;
  BEGIN
    SELECT a.email, a.quota_bytes INTO o_detail, quota FROM accounts a WHERE a.id = acc
      FOR NO KEY UPDATE;
    IF NOT FOUND THEN
      o_status := 'not_found';
      RETURN;
    END IF;
    SELECT m.id INTO o_mailbox FROM mailboxes m
      WHERE m.account_id = acc AND m.name = ANY(ARRAY[box, 'INBOX'])
      ORDER BY m.name = 'INBOX' LIMIT 1;
    IF o_mailbox IS NULL THEN
      o_status := 'not_found';
      RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (acc % 2147483647)::int);
    IF quota IS NOT NULL THEN
      SELECT coalesce(sum(m.size), 0) INTO used FROM mailboxes m WHERE m.account_id = acc;
      IF used + msg_size > quota THEN
        o_status := 'quota';
        RETURN;
      END IF;
    END IF;
    UPDATE mailboxes m SET uid_next = m.uid_next + 1, highest_modseq = m.highest_modseq + 1
      WHERE m.id = o_mailbox
      RETURNING m.uid_next - 1, m.highest_modseq, m.uid_validity
      INTO o_uid, o_modseq, o_uid_validity;
    IF NOT FOUND THEN -- deleted since the lookup
      o_status := 'not_found';
      RETURN;
    END IF;
    IF cardinality(refs) > 0 THEN
      SELECT t.thread_id INTO tid
        FROM unnest(refs) WITH ORDINALITY AS r(id, n)
        JOIN thread_message_ids t ON t.account_id = acc AND t.message_id = r.id
        WHERE t.subject = subj
        ORDER BY r.n DESC LIMIT 1;
    END IF;
    tid := coalesce(tid, blob);
    INSERT INTO email_threads (account_id, blob_id, thread_id) VALUES (acc, blob, tid)
      ON CONFLICT DO NOTHING;
    IF cardinality(ids) > 0 THEN
      INSERT INTO thread_message_ids (account_id, message_id, thread_id, subject)
        SELECT acc, i, tid, subj FROM unnest(ids) AS i ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
        blob_id)
      VALUES (o_mailbox, o_uid, o_modseq, fl, is_seen, is_deleted, idate, msg_size, blob);
    IF origin IS NOT NULL THEN
      PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_build_array(
        json_build_object('kind', 'append', 'mailboxId', o_mailbox,
          'uids', json_build_array(o_uid), 'highestModseq', o_modseq)))::text);
    END IF;
    o_status := 'ok';
  END $$;
`;

/**
 * Migration: `denomail_deliver_batch(...)`, a whole group commit's placements in one
 * statement (delivery_batch.ts): `denomail_deliver_one` for each delivery in order (the same
 * locks, rules and answers, one row each, in order), then the blobs of the refused ones
 * removed (they have no reference) and, when `origin` is given, one notification for the
 * batch: an append change per mailbox with the UIDs the batch placed there (at most 32
 * deliveries, far below PostgreSQL's 8000-byte payload limit). One statement instead of one a delivery and two more:
 * the server runs no protocol round per delivery, and this process parses one answer.
 * Arguments are parallel arrays (1-based, entry i is delivery i); `refs` and `ids` are JSON
 * arrays of arrays of strings (a text[][] must be rectangular). A quota refusal sees the
 * earlier deliveries of the batch (each call sees the statements before it).
 */
export const DELIVER_BATCH_MIGRATION = `
  CREATE FUNCTION denomail_deliver_batch(
    acc bigint[], box text[], blob bigint[], msg_size bigint[], fl text[], is_seen boolean[],
    is_deleted boolean[], idate bigint[], refs jsonb, ids jsonb, subj text[], origin text)
  RETURNS TABLE (o_status text, o_detail text, o_mailbox bigint, o_uid bigint,
    o_modseq bigint, o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    r record;
    refused bigint[] := '{}';
  BEGIN
    FOR i IN 1 .. coalesce(cardinality(acc), 0) LOOP
      SELECT * INTO r FROM denomail_deliver_one(acc[i], box[i], blob[i], msg_size[i], fl[i],
        is_seen[i], is_deleted[i], idate[i],
        ARRAY(SELECT jsonb_array_elements_text(refs -> (i - 1))),
        ARRAY(SELECT jsonb_array_elements_text(ids -> (i - 1))), subj[i], NULL);
      IF r.o_status IS DISTINCT FROM 'ok' THEN
        refused := refused || blob[i];
      END IF;
      o_status := r.o_status;
      o_detail := r.o_detail;
      o_mailbox := r.o_mailbox;
      o_uid := r.o_uid;
      o_modseq := r.o_modseq;
      o_uid_validity := r.o_uid_validity;
      RETURN NEXT;
    END LOOP;
    IF cardinality(refused) > 0 THEN
      WITH gone AS (DELETE FROM blobs b WHERE b.id = ANY(refused) AND b.refs = 0
        RETURNING b.id)
      DELETE FROM search_pending p WHERE p.blob_id IN (SELECT g.id FROM gone g);
    END IF;
    IF origin IS NOT NULL THEN
      PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_agg(
        json_build_object('kind', 'append', 'mailboxId', s.mailbox_id, 'uids', s.uids,
          'highestModseq', s.modseq) ORDER BY s.mailbox_id))::text)
      FROM (SELECT m.mailbox_id, json_agg(m.uid ORDER BY m.uid) AS uids,
              max(m.modseq) AS modseq
            FROM messages m WHERE m.blob_id = ANY(blob) GROUP BY m.mailbox_id) s
      HAVING count(*) > 0;
    END IF;
  END $$;
`;

/**
 * Migration: `denomail_deliver_batch_blobs(...)`, a whole group commit as ONE statement,
 * sent outside any explicit transaction (delivery_batch.ts): PostgreSQL runs it as a
 * transaction of its own and commits it before it answers, so a batch costs one round trip
 * instead of four (BEGIN, blobs, placements, COMMIT) and the mailbox lock is never held
 * across a round trip to a busy denomail process.
 *
 * First the shared bodies (blob_store.ts: stored once by digest, a new one noted as an orphan
 * candidate; in digest order, so two batches putting the same new bodies queue instead of
 * deadlocking), then each delivery's blob row (writes/blobs.ts: header block or whole
 * message, SHA-256, body digest) with its search_pending row, in order; then
 * `denomail_deliver_batch` with those blob ids. Message bytes arrive as base64 text, digests
 * as hex; NULL body: the row keeps the whole message.
 */
export const DELIVER_BATCH_BLOBS_MIGRATION = `
  CREATE FUNCTION denomail_deliver_batch_blobs(
    p_digest text[], p_data text[], p_body_digest text[], p_body text[],
    acc bigint[], box text[], msg_size bigint[], fl text[], is_seen boolean[],
    is_deleted boolean[], idate bigint[], refs jsonb, ids jsonb, subj text[], origin text)
  RETURNS TABLE (o_status text, o_detail text, o_mailbox bigint, o_uid bigint,
    o_modseq bigint, o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    blob bigint[] := '{}';
    bid bigint;
  BEGIN
    WITH i AS (
      INSERT INTO blob_bodies AS bb (digest, data)
        SELECT decode(s.d, 'hex'), decode(s.b, 'base64')
        FROM (SELECT DISTINCT ON (u.d) u.d, u.b FROM unnest(p_body_digest, p_body) AS u(d, b)
              WHERE u.d IS NOT NULL ORDER BY u.d) s
        ON CONFLICT (digest) DO NOTHING RETURNING bb.digest)
    INSERT INTO blob_body_orphans (digest) SELECT i.digest FROM i;
    FOR n IN 1 .. coalesce(cardinality(acc), 0) LOOP
      INSERT INTO blobs AS b (digest, size, data, body_digest)
        VALUES (decode(p_digest[n], 'hex'), msg_size[n], decode(p_data[n], 'base64'),
          decode(p_body_digest[n], 'hex'))
        RETURNING b.id INTO bid;
      INSERT INTO search_pending (blob_id) VALUES (bid);
      blob := blob || bid;
    END LOOP;
    RETURN QUERY SELECT * FROM denomail_deliver_batch(acc, box, blob, msg_size, fl, is_seen,
      is_deleted, idate, refs, ids, subj, origin);
  END $$;
`;
