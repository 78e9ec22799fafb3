/**
 * The per-account change log in PostgreSQL (JMAP states and `*\/changes`, RFC 8620 §5.2):
 * one row per change to a message copy or a mailbox, written by triggers, so every write
 * path (SMTP delivery, IMAP STORE/COPY/MOVE/EXPUNGE/RENAME, POP3 DELE, JMAP) lands in it
 * without knowing it exists. The same records as SQLite's (storage/sqlite/change_log.ts).
 *
 * Invariants:
 * - Row ids come from one identity sequence: they grow and are never reused.
 * - Within an account, ids COMMIT in increasing order, so a reader's snapshot always holds a
 *   prefix of the account's log and "the last id" is a state that only moves forward. (A
 *   transaction that drew id 10 must not commit after one that drew 11: a client synced to
 *   11 would never see 10.) So every record is written under the account's change-log lock,
 *   a transaction-level advisory lock (class `CHANGE_LOG_LOCK_CLASS`, key the account id)
 *   held until COMMIT, taken before the id is drawn. An advisory lock, not a row: no tuple
 *   is rewritten per write.
 * - Writes take that lock early, in the order of `writes/context.ts` (after the account rows,
 *   before the mailbox rows: `lockChangeLogs`), so the triggers find it held and writers
 *   queue instead of deadlocking; a write path that forgot would still be correct (the
 *   trigger takes it), and a deadlock it caused would be retried whole.
 * - A row is written in the transaction of the change it records; a removed account's rows
 *   go with it (writes/accounts.ts `removeAccount`).
 * - Email rows name the copy (mailbox, uid) with `c` (placed), `u` (flags changed) or `d`
 *   (removed); a mailbox that is deleted first records `d` for each message in it, since
 *   its messages go by cascade after the mailbox row (whose account is then unknown).
 * - Mailbox rows: `c`, `u` (name, role, subscription), `d`. A mailbox's counters move with
 *   its email rows (which name the mailbox), so they get no rows of their own.
 *
 * @module
 */
import type { ChangeRecord } from "../mod.ts";
import type { Row } from "./rows.ts";

/**
 * The class (first key) of the per-account change-log advisory locks ("clog"); the second
 * key is `(account_id % 2147483647)::int` (two accounts sharing one only serialise more).
 */
export const CHANGE_LOG_LOCK_CLASS = 0x636c6f67;

/** Migration: the log and the triggers that write it. */
export const CHANGE_LOG_MIGRATION = `
  CREATE TABLE change_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    kind       text NOT NULL,     -- 'email' (object: blob id) | 'mailbox' (object: mailbox id)
    object_id  bigint NOT NULL,
    op         text NOT NULL,     -- 'c' | 'u' | 'd'
    mailbox_id bigint,            -- email rows: the copy
    uid        bigint
  );
  CREATE INDEX change_log_account ON change_log(account_id, kind, id);

  -- The account's change-log lock (see change_log.ts), then the record.
  CREATE FUNCTION change_log_add(acc bigint, k text, obj bigint, o text, mb bigint, u bigint)
  RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, (acc % 2147483647)::int);
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      VALUES (acc, k, obj, o, mb, u);
  END $$;

  -- A copy placed (c), removed (d), moved (d then c) or its flags changed (u). No mailbox
  -- row (a mailbox being deleted): its delete trigger logged the copy already.
  CREATE FUNCTION change_log_messages() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    acc bigint;
  BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.mailbox_id <> NEW.mailbox_id) THEN
      SELECT account_id INTO acc FROM mailboxes WHERE id = OLD.mailbox_id;
      IF acc IS NOT NULL THEN
        PERFORM change_log_add(acc, 'email', OLD.blob_id, 'd', OLD.mailbox_id, OLD.uid);
      END IF;
      IF TG_OP = 'DELETE' THEN
        RETURN NULL;
      END IF;
    END IF;
    SELECT account_id INTO acc FROM mailboxes WHERE id = NEW.mailbox_id;
    IF acc IS NOT NULL THEN
      PERFORM change_log_add(acc, 'email', NEW.blob_id,
        CASE WHEN TG_OP = 'UPDATE' AND OLD.mailbox_id = NEW.mailbox_id THEN 'u' ELSE 'c' END,
        NEW.mailbox_id, NEW.uid);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER change_log_messages AFTER INSERT OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION change_log_messages();
  CREATE TRIGGER change_log_messages_moved AFTER UPDATE OF mailbox_id ON messages
    FOR EACH ROW WHEN (OLD.mailbox_id <> NEW.mailbox_id) EXECUTE FUNCTION change_log_messages();
  CREATE TRIGGER change_log_messages_flags AFTER UPDATE OF flags ON messages
    FOR EACH ROW WHEN (OLD.mailbox_id = NEW.mailbox_id) EXECUTE FUNCTION change_log_messages();

  CREATE FUNCTION change_log_mailboxes() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      PERFORM change_log_add(NEW.account_id, 'mailbox', NEW.id, 'c', NULL, NULL);
      RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
      PERFORM change_log_add(NEW.account_id, 'mailbox', NEW.id, 'u', NULL, NULL);
      RETURN NULL;
    END IF;
    -- BEFORE DELETE: the messages go by cascade afterwards, when the account is unknown.
    PERFORM change_log_add(OLD.account_id, 'email', m.blob_id, 'd', m.mailbox_id, m.uid)
      FROM messages m WHERE m.mailbox_id = OLD.id;
    PERFORM change_log_add(OLD.account_id, 'mailbox', OLD.id, 'd', NULL, NULL);
    RETURN OLD;
  END $$;
  CREATE TRIGGER change_log_mailboxes_insert AFTER INSERT ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION change_log_mailboxes();
  CREATE TRIGGER change_log_mailboxes_update AFTER UPDATE OF name, special_use ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION change_log_mailboxes();
  CREATE TRIGGER change_log_mailboxes_delete BEFORE DELETE ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION change_log_mailboxes();

  -- A subscription changed: the mailbox of that name (if any) is updated.
  CREATE FUNCTION change_log_subscriptions() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    s subscriptions;
  BEGIN
    IF TG_OP = 'INSERT' THEN s := NEW; ELSE s := OLD; END IF;
    PERFORM change_log_add(m.account_id, 'mailbox', m.id, 'u', NULL, NULL)
      FROM mailboxes m WHERE m.account_id = s.account_id AND m.name = s.name;
    RETURN NULL;
  END $$;
  CREATE TRIGGER change_log_subscriptions AFTER INSERT OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION change_log_subscriptions();
`;

export const HEAD_SQL =
  "SELECT coalesce(max(id), 0)::bigint AS n FROM change_log WHERE account_id = $1 AND kind = $2";

export const SINCE_SQL = `SELECT id, object_id, op, mailbox_id, uid FROM change_log
  WHERE account_id = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4`;

export function toChangeRecord(r: Row): ChangeRecord {
  return {
    id: r.id as number,
    objectId: r.object_id as number,
    op: r.op as ChangeRecord["op"],
    mailboxId: (r.mailbox_id as number | null) ?? null,
    uid: (r.uid as number | null) ?? null,
  };
}
