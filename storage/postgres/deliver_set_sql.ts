/**
 * Migration: `denomail_deliver_batch_blobs` (deliver_sql.ts) set-based — the same signature,
 * locks, rules and answers, a fraction of PostgreSQL's work a delivery. The loop of
 * `denomail_deliver_one` (one counter UPDATE, one message INSERT and three row triggers a
 * delivery: counters, blob reference count, change log) becomes, per batch:
 * - per account (ascending id): its row FOR NO KEY UPDATE, its change-log lock
 *   (change_log.ts), its quota's used octets read once;
 * - per mailbox: its row locked and read once (FOR NO KEY UPDATE, so a concurrent writer's
 *   UID is seen); the deliveries' UIDs and modseqs are counted on from it in delivery order,
 *   and ONE UPDATE writes uid_next, highest_modseq and the counters at the end;
 * - per delivery, in order, only what depends on the earlier ones: the quota check (the
 *   batch's earlier octets counted in), the thread (RFC 8621 §3: an earlier delivery of the
 *   batch with the referenced Message-ID counts, as if its row were already written);
 * - then one INSERT each for the blobs (reference count 1 from the start; a refused
 *   delivery's blob is never written), search_pending, messages, change_log, email_threads
 *   and thread_message_ids.
 *
 * And the index `messages_mailbox_blob`, which no query uses, is dropped.
 *
 * The message rows go in while the transaction-local setting `denomail.deliver_batch` is
 * 'on': the row triggers on `messages` (counters, blob references, change log) are
 * re-created with `WHEN (... IS DISTINCT FROM 'on')`, so they skip the batch's rows, whose
 * effects the function writes itself, and fire for every other writer (IMAP APPEND, COPY,
 * EXPUNGE, JMAP) as before. The setting is cleared right after that INSERT (and rolls back
 * with a failed statement or subtransaction).
 *
 * @module
 */
import { CHANGE_LOG_LOCK_CLASS } from "./change_log.ts";

/** The NOTIFY channel (change_bus.ts CHANGE_CHANNEL; repeated: a migration never changes). */
const CHANNEL = "denomail_changes";

/** Rows of `messages` written by a set-based batch skip the row triggers while it is on. */
const NOT_BATCH = "current_setting('denomail.deliver_batch', true) IS DISTINCT FROM 'on'";

export const DELIVER_SET_MIGRATION = `
  -- No query reads messages by (mailbox_id, blob_id): by blob it is messages_blob, by
  -- mailbox the primary key or messages_date/_size (EXPLAIN of reads/threads.ts's queries
  -- picks the same plans without it). One index entry fewer a message.
  DROP INDEX messages_mailbox_blob;
  DROP TRIGGER messages_counts ON messages;
  CREATE TRIGGER messages_counts AFTER INSERT OR DELETE OR UPDATE OF mailbox_id, seen, size
    ON messages FOR EACH ROW WHEN (${NOT_BATCH}) EXECUTE FUNCTION messages_counts();
  DROP TRIGGER messages_blob_refs ON messages;
  CREATE TRIGGER messages_blob_refs AFTER INSERT OR DELETE ON messages
    FOR EACH ROW WHEN (${NOT_BATCH}) EXECUTE FUNCTION blob_refs();
  DROP TRIGGER change_log_messages ON messages;
  CREATE TRIGGER change_log_messages AFTER INSERT OR DELETE ON messages
    FOR EACH ROW WHEN (${NOT_BATCH}) EXECUTE FUNCTION change_log_messages();

  CREATE OR REPLACE FUNCTION denomail_deliver_batch_blobs(
    p_digest text[], p_data text[], p_body_digest text[], p_body text[],
    acc bigint[], box text[], msg_size bigint[], fl text[], is_seen boolean[],
    is_deleted boolean[], idate bigint[], refs jsonb, ids jsonb, subj text[], origin text)
  RETURNS TABLE (o_status text, o_detail text, o_mailbox bigint, o_uid bigint,
    o_modseq bigint, o_uid_validity bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    k int := coalesce(cardinality(acc), 0);
    v_st text[] := array_fill(NULL::text, ARRAY[k]);
    v_det text[] := array_fill(NULL::text, ARRAY[k]);
    v_mb bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    v_uid bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    v_ms bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    v_uv bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    v_tid bigint[] := array_fill(NULL::bigint, ARRAY[k]);
    v_bid bigint[];
    -- The batch's mailboxes: by (account, name) asked for, and by row (slot).
    n_acc bigint[] := '{}';
    n_name text[] := '{}';
    n_slot int[] := '{}';
    c_id bigint[] := '{}';
    c_next bigint[] := '{}';
    c_hm bigint[] := '{}';
    c_uv bigint[] := '{}';
    c_cnt bigint[] := '{}';
    c_unseen bigint[] := '{}';
    c_size bigint[] := '{}';
    a bigint;
    a_email text;
    a_quota bigint;
    used bigint;
    s int;
    mid bigint;
    l_nx bigint;
    l_hm bigint;
    l_uv bigint;
    t bigint;
  BEGIN
    WITH i AS (
      INSERT INTO blob_bodies AS bb (digest, data)
        SELECT decode(u.d, 'hex'), decode(u.b, 'base64')
        FROM (SELECT DISTINCT ON (x.d) x.d, x.b FROM unnest(p_body_digest, p_body) AS x(d, b)
              WHERE x.d IS NOT NULL ORDER BY x.d) u
        ON CONFLICT (digest) DO NOTHING RETURNING bb.digest)
    INSERT INTO blob_body_orphans (digest) SELECT i.digest FROM i;
    v_bid := ARRAY(SELECT nextval(pg_get_serial_sequence('blobs', 'id'))
      FROM generate_series(1, k));

    FOR a IN SELECT DISTINCT x FROM unnest(acc) AS x ORDER BY x LOOP
      SELECT y.email, y.quota_bytes INTO a_email, a_quota FROM accounts y WHERE y.id = a
        FOR NO KEY UPDATE;
      IF NOT FOUND THEN
        FOR i IN 1 .. k LOOP
          IF acc[i] = a THEN v_st[i] := 'not_found'; END IF;
        END LOOP;
        CONTINUE;
      END IF;
      PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (a % 2147483647)::int);
      IF a_quota IS NOT NULL THEN
        SELECT coalesce(sum(m.size), 0) INTO used FROM mailboxes m WHERE m.account_id = a;
      END IF;
      FOR i IN 1 .. k LOOP
        CONTINUE WHEN acc[i] <> a;
        v_det[i] := a_email;
        s := NULL;
        FOR j IN 1 .. cardinality(n_acc) LOOP
          IF n_acc[j] = a AND n_name[j] = box[i] THEN s := n_slot[j]; EXIT; END IF;
        END LOOP;
        IF s IS NULL THEN
          -- The named mailbox, else INBOX; locked, so its counters are the latest.
          SELECT m.id INTO mid FROM mailboxes m
            WHERE m.account_id = a AND m.name = ANY(ARRAY[box[i], 'INBOX'])
            ORDER BY m.name = 'INBOX' LIMIT 1;
          IF mid IS NULL THEN
            v_st[i] := 'not_found';
            CONTINUE;
          END IF;
          s := array_position(c_id, mid);
          IF s IS NULL THEN
            SELECT m.uid_next, m.highest_modseq, m.uid_validity INTO l_nx, l_hm, l_uv
              FROM mailboxes m WHERE m.id = mid FOR NO KEY UPDATE;
            IF NOT FOUND THEN -- deleted since the lookup
              v_st[i] := 'not_found';
              CONTINUE;
            END IF;
            c_id := c_id || mid;
            s := cardinality(c_id);
            c_next[s] := l_nx;
            c_hm[s] := l_hm;
            c_uv[s] := l_uv;
            c_cnt[s] := 0;
            c_unseen[s] := 0;
            c_size[s] := 0;
          END IF;
          n_acc := n_acc || a;
          n_name := n_name || box[i];
          n_slot := n_slot || s;
        END IF;
        IF a_quota IS NOT NULL THEN
          IF used + msg_size[i] > a_quota THEN
            v_st[i] := 'quota';
            CONTINUE;
          END IF;
          used := used + msg_size[i];
        END IF;
        v_st[i] := 'ok';
        v_mb[i] := c_id[s];
        v_uid[i] := c_next[s];
        c_next[s] := c_next[s] + 1;
        c_hm[s] := c_hm[s] + 1;
        v_ms[i] := c_hm[s];
        v_uv[i] := c_uv[s];
        c_cnt[s] := c_cnt[s] + 1;
        c_unseen[s] := c_unseen[s] + CASE WHEN is_seen[i] THEN 0 ELSE 1 END;
        c_size[s] := c_size[s] + msg_size[i];
        t := NULL;
        IF jsonb_array_length(refs -> (i - 1)) > 0 THEN
          -- The nearest reference known with the same base subject: a stored Message-ID
          -- first (as ON CONFLICT DO NOTHING keeps it), else the earliest delivery before
          -- this one in the batch.
          SELECT x.tid INTO t
            FROM jsonb_array_elements_text(refs -> (i - 1)) WITH ORDINALITY AS r(id, n)
            CROSS JOIN LATERAL (
              (SELECT tm.thread_id AS tid, tm.subject AS sub FROM thread_message_ids tm
                WHERE tm.account_id = a AND tm.message_id = r.id)
              UNION ALL
              (SELECT v_tid[j], subj[j] FROM generate_series(1, i - 1) AS j
                WHERE v_st[j] = 'ok' AND acc[j] = a AND (ids -> (j - 1)) ? r.id ORDER BY j)
              LIMIT 1) x
            WHERE x.sub = subj[i]
            ORDER BY r.n DESC LIMIT 1;
        END IF;
        v_tid[i] := coalesce(t, v_bid[i]);
      END LOOP;
    END LOOP;

    INSERT INTO blobs (id, digest, size, data, body_digest, refs) OVERRIDING SYSTEM VALUE
      SELECT v_bid[n], decode(p_digest[n], 'hex'), msg_size[n], decode(p_data[n], 'base64'),
        decode(p_body_digest[n], 'hex'), 1
      FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok';
    INSERT INTO search_pending (blob_id)
      SELECT v_bid[n] FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok';
    PERFORM set_config('denomail.deliver_batch', 'on', true);
    INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
        blob_id)
      SELECT v_mb[n], v_uid[n], v_ms[n], fl[n], is_seen[n], is_deleted[n], idate[n],
        msg_size[n], v_bid[n]
      FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok';
    PERFORM set_config('denomail.deliver_batch', '', true);
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT acc[n], 'email', v_bid[n], 'c', v_mb[n], v_uid[n]
      FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok' ORDER BY n;
    UPDATE mailboxes m SET uid_next = u.nx, highest_modseq = u.hm,
        messages = m.messages + u.cnt, unseen = m.unseen + u.unseen, size = m.size + u.sz
      FROM unnest(c_id, c_next, c_hm, c_cnt, c_unseen, c_size) AS u(id, nx, hm, cnt, unseen, sz)
      WHERE m.id = u.id AND u.cnt > 0;
    -- The blob ids are new: no conflict (the speculative insertion cost more than the row).
    INSERT INTO email_threads (account_id, blob_id, thread_id)
      SELECT acc[n], v_bid[n], v_tid[n] FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok';
    INSERT INTO thread_message_ids (account_id, message_id, thread_id, subject)
      SELECT acc[n], e.id, v_tid[n], subj[n]
      FROM generate_series(1, k) AS n,
        jsonb_array_elements_text(ids -> (n - 1)) WITH ORDINALITY AS e(id, o)
      WHERE v_st[n] = 'ok' ORDER BY n, e.o
      ON CONFLICT DO NOTHING;

    IF origin IS NOT NULL THEN
      PERFORM pg_notify('${CHANNEL}', json_build_object('o', origin, 'c', json_agg(
        json_build_object('kind', 'append', 'mailboxId', g.mb, 'uids', g.uids,
          'highestModseq', g.hm) ORDER BY g.mb))::text)
      FROM (SELECT v_mb[n] AS mb, json_agg(v_uid[n] ORDER BY v_uid[n]) AS uids,
              max(v_ms[n]) AS hm
            FROM generate_series(1, k) AS n WHERE v_st[n] = 'ok' GROUP BY v_mb[n]) g
      HAVING count(*) > 0;
    END IF;
    RETURN QUERY SELECT v_st[n], v_det[n], v_mb[n], v_uid[n], v_ms[n], v_uv[n]
      FROM generate_series(1, k) AS n ORDER BY n;
  END $$;
`;
