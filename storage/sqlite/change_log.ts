/**
 * The per-account change log in SQLite: one row per change to a message copy or a mailbox,
 * written by triggers, so every write path (SMTP delivery, IMAP STORE/COPY/MOVE/EXPUNGE,
 * POP3 DELE, JMAP) lands in it without knowing it exists. JMAP states and `*\/changes`
 * (RFC 8620 §5.2) read it; IMAP CONDSTORE/QRESYNC read the per-mailbox MODSEQs written by
 * the same transactions, so both protocols see one history.
 *
 * Invariants:
 * - Row ids grow (AUTOINCREMENT) and are never reused, so "the account's last row id" is a
 *   state that only moves forward.
 * - A row is written in the transaction of the change it records; a removed account's rows
 *   go with it.
 * - Email rows name the copy (mailbox, uid) with `c` (placed), `u` (flags changed) or `d`
 *   (removed); a mailbox that is deleted first records `d` for each message in it, since
 *   its messages go by cascade after the mailbox row (whose account is then unknown).
 * - Mailbox rows: `c`, `u` (name, role, subscription), `d`. A mailbox's counters move with
 *   its email rows (which name the mailbox), so they get no rows of their own: one row per
 *   delivered copy keeps the log's cost on delivery small.
 *
 * @module
 */
import type { ChangeRecord } from "../mod.ts";
import type { Row } from "./rows.ts";

/** Migration "change_log": the table and its triggers. */
export const CHANGE_LOG_MIGRATION = `
  CREATE TABLE change_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,     -- 'email' (object: blob id) | 'mailbox' (object: mailbox id)
    object_id  INTEGER NOT NULL,
    op         TEXT NOT NULL,     -- 'c' | 'u' | 'd'
    mailbox_id INTEGER,           -- email rows: the copy
    uid        INTEGER
  );
  CREATE INDEX change_log_account ON change_log(account_id, kind, id);

  CREATE TRIGGER change_log_messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT account_id, 'email', NEW.blob_id, 'c', NEW.mailbox_id, NEW.uid
      FROM mailboxes WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER change_log_messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT account_id, 'email', OLD.blob_id, 'd', OLD.mailbox_id, OLD.uid
      FROM mailboxes WHERE id = OLD.mailbox_id;
  END;
  CREATE TRIGGER change_log_messages_flags AFTER UPDATE OF flags ON messages
  WHEN OLD.mailbox_id = NEW.mailbox_id BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT account_id, 'email', NEW.blob_id, 'u', NEW.mailbox_id, NEW.uid
      FROM mailboxes WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER change_log_messages_moved AFTER UPDATE OF mailbox_id ON messages
  WHEN OLD.mailbox_id <> NEW.mailbox_id BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT account_id, 'email', OLD.blob_id, 'd', OLD.mailbox_id, OLD.uid
      FROM mailboxes WHERE id = OLD.mailbox_id;
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT account_id, 'email', NEW.blob_id, 'c', NEW.mailbox_id, NEW.uid
      FROM mailboxes WHERE id = NEW.mailbox_id;
  END;

  CREATE TRIGGER change_log_mailboxes_ai AFTER INSERT ON mailboxes BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op)
      VALUES (NEW.account_id, 'mailbox', NEW.id, 'c');
  END;
  CREATE TRIGGER change_log_mailboxes_au AFTER UPDATE OF name, special_use ON mailboxes BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op)
      VALUES (NEW.account_id, 'mailbox', NEW.id, 'u');
  END;
  CREATE TRIGGER change_log_mailboxes_bd BEFORE DELETE ON mailboxes BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op, mailbox_id, uid)
      SELECT OLD.account_id, 'email', blob_id, 'd', mailbox_id, uid
      FROM messages WHERE mailbox_id = OLD.id;
    INSERT INTO change_log (account_id, kind, object_id, op)
      VALUES (OLD.account_id, 'mailbox', OLD.id, 'd');
  END;

  -- Runs after the cascade removed the account's mailboxes (whose triggers logged them).
  CREATE TRIGGER change_log_accounts_ad AFTER DELETE ON accounts BEGIN
    DELETE FROM change_log WHERE account_id = OLD.id;
  END;

  CREATE TRIGGER change_log_subscriptions_ai AFTER INSERT ON subscriptions BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op)
      SELECT account_id, 'mailbox', id, 'u' FROM mailboxes
      WHERE account_id = NEW.account_id AND name = NEW.name;
  END;
  CREATE TRIGGER change_log_subscriptions_ad AFTER DELETE ON subscriptions BEGIN
    INSERT INTO change_log (account_id, kind, object_id, op)
      SELECT account_id, 'mailbox', id, 'u' FROM mailboxes
      WHERE account_id = OLD.account_id AND name = OLD.name;
  END;
`;

export const HEAD_SQL =
  "SELECT coalesce(max(id), 0) AS n FROM change_log WHERE account_id = ? AND kind = ?";

export const SINCE_SQL = `SELECT id, object_id, op, mailbox_id, uid FROM change_log
  WHERE account_id = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?`;

export function toChangeRecord(r: Row): ChangeRecord {
  return {
    id: r.id as number,
    objectId: r.object_id as number,
    op: r.op as ChangeRecord["op"],
    mailboxId: (r.mailbox_id as number | null) ?? null,
    uid: (r.uid as number | null) ?? null,
  };
}
