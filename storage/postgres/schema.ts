/**
 * PostgreSQL schema and its versioned migrations (table `schema_version`).
 *
 * Invariants the schema keeps with triggers, so that no write path can forget (as on SQLite):
 * - `blobs.refs` counts the `messages` and `queue` rows that point at a blob; a blob whose
 *   count drops to zero is deleted (with its search text) in the same transaction.
 * - `mailboxes.messages`, `.unseen` and `.size` are the row count, the unseen count and the
 *   octet sum of the mailbox's messages, so STATUS, SELECT and QUOTA never scan messages.
 * - One blob per stored message, as on SQLite (a JMAP Email is a blob of an account); until
 *   migration 9 blobs were shared by SHA-256 digest, and those already shared stay so.
 *
 * Names that are compared or ordered byte-wise (mailbox names, addresses, kv keys) use the
 * "C" collation, whatever the database's locale: the same order as SQLite's.
 *
 * Several nodes may start at once: migrations run under a transaction-level advisory lock,
 * so exactly one applies each step.
 *
 * @module
 */
import type { Db } from "./rows.ts";
import { CHANGE_LOG_MIGRATION } from "./change_log.ts";
import { HISTORY_PRUNED_MIGRATION } from "./retention.ts";
import { BLOB_BODIES_MIGRATION } from "./blob_store.ts";
import {
  DELIVER_BATCH_BLOBS_MIGRATION,
  DELIVER_BATCH_MIGRATION,
  DELIVER_ONE_MIGRATION,
  DELIVER_ONE_V2_MIGRATION,
} from "./deliver_sql.ts";
import { DELIVER_SET_MIGRATION } from "./deliver_set_sql.ts";
import { DELIVER_KNOWN_BODIES_MIGRATION } from "./deliver_known_bodies_sql.ts";
import { SEARCH_PENDING_MIGRATION } from "./search_index.ts";
import { DIRECTORY_NOTIFY_MIGRATION } from "./directory_cache.ts";
import { IMAP_WRITES_MIGRATION } from "./imap_sql.ts";

/** Migrations in order; migration i brings the version from i to i + 1. Never edit one. */
const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE meta (
    key   text PRIMARY KEY,
    value bigint NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('uid_validity', 0);

  CREATE TABLE domains (
    name       text COLLATE "C" PRIMARY KEY,
    created_at bigint NOT NULL
  );

  CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text COLLATE "C" NOT NULL UNIQUE,
    domain        text COLLATE "C" NOT NULL REFERENCES domains(name),
    password_hash text NOT NULL,
    quota_bytes   bigint,
    created_at    bigint NOT NULL
  );
  CREATE INDEX accounts_domain ON accounts(domain);

  CREATE TABLE aliases (
    source  text COLLATE "C" PRIMARY KEY,
    targets text NOT NULL -- JSON array of lower-case addresses
  );

  CREATE TABLE mailboxes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           text COLLATE "C" NOT NULL,
    uid_validity   bigint NOT NULL,
    uid_next       bigint NOT NULL DEFAULT 1,
    highest_modseq bigint NOT NULL DEFAULT 1,
    special_use    text,
    messages       bigint NOT NULL DEFAULT 0,
    unseen         bigint NOT NULL DEFAULT 0,
    size           bigint NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
  );

  -- RFC 9051 §6.3.9: subscriptions are names, which need not exist as mailboxes.
  CREATE TABLE subscriptions (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, name)
  );

  CREATE TABLE blobs (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest bytea NOT NULL UNIQUE, -- SHA-256 of data
    size   bigint NOT NULL,
    refs   bigint NOT NULL DEFAULT 0,
    data   bytea NOT NULL
  );

  -- The searchable text of a message blob (see text.ts); lower-cased, NUL-free.
  CREATE TABLE blob_text (
    blob_id bigint PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,
    header  text NOT NULL,
    body    text NOT NULL,
    partial boolean NOT NULL
  );

  -- No foreign key on blob_id: the refcount triggers keep the reference honest.
  CREATE TABLE messages (
    mailbox_id    bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           bigint NOT NULL,
    modseq        bigint NOT NULL,
    flags         text NOT NULL DEFAULT '', -- space separated (flags are IMAP atoms)
    seen          boolean NOT NULL DEFAULT false,
    deleted       boolean NOT NULL DEFAULT false,
    internal_date bigint NOT NULL,
    size          bigint NOT NULL,
    blob_id       bigint NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  );
  -- CONDSTORE CHANGEDSINCE (RFC 7162 §3.1.4.1).
  CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
  CREATE INDEX messages_unseen ON messages(mailbox_id, uid) WHERE NOT seen;

  -- QRESYNC VANISHED (EARLIER) (RFC 7162 §3.2.10).
  CREATE TABLE expunged (
    mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        bigint NOT NULL,
    modseq     bigint NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  );
  CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

  -- Identity ids come from a sequence: never reused (admins see queue ids).
  CREATE TABLE queue (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    blob_id         bigint NOT NULL,
    sender          text NOT NULL,
    recipients      text NOT NULL, -- JSON QueueRecipient[]
    created_at      bigint NOT NULL,
    next_attempt_at bigint NOT NULL,
    attempts        bigint NOT NULL DEFAULT 0,
    last_error      text,
    meta            text NOT NULL DEFAULT '{}'
  );
  CREATE INDEX queue_due ON queue(next_attempt_at, id);

  CREATE TABLE kv (
    ns         text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      bytea NOT NULL, -- UTF-8 (a value may hold NUL, which text cannot)
    expires_at bigint,
    PRIMARY KEY (ns, key)
  );
  CREATE INDEX kv_expiry ON kv(expires_at) WHERE expires_at IS NOT NULL;

  CREATE FUNCTION messages_counts() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP <> 'INSERT' THEN
      UPDATE mailboxes SET messages = messages - 1,
        unseen = unseen - (CASE WHEN OLD.seen THEN 0 ELSE 1 END), size = size - OLD.size
      WHERE id = OLD.mailbox_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      UPDATE mailboxes SET messages = messages + 1,
        unseen = unseen + (CASE WHEN NEW.seen THEN 0 ELSE 1 END), size = size + NEW.size
      WHERE id = NEW.mailbox_id;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER messages_counts AFTER INSERT OR DELETE OR UPDATE OF mailbox_id, seen, size
    ON messages FOR EACH ROW EXECUTE FUNCTION messages_counts();

  CREATE FUNCTION blob_refs() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;
    ELSE
      UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;
      DELETE FROM blobs WHERE id = OLD.blob_id AND refs <= 0;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER messages_blob_refs AFTER INSERT OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION blob_refs();
  CREATE TRIGGER queue_blob_refs AFTER INSERT OR DELETE ON queue
    FOR EACH ROW EXECUTE FUNCTION blob_refs();
  `,
  // 2: JMAP bearer tokens (writes/tokens.ts); only the token's SHA-256 is kept.
  `
  CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text NOT NULL,
    token_hash text COLLATE "C" NOT NULL UNIQUE,
    created_at bigint NOT NULL
  );
  CREATE INDEX api_tokens_account ON api_tokens(account_id);
  `,
  // 3: JMAP uploads (writes/uploads.ts; RFC 8620 §6.1).
  `
  CREATE TABLE uploads (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type       text NOT NULL,
    size       bigint NOT NULL,
    created_at bigint NOT NULL,
    data       bytea NOT NULL
  );
  CREATE INDEX uploads_account ON uploads(account_id, id);
  CREATE INDEX uploads_created ON uploads(created_at);
  `,
  // 4: the admin role on accounts (writes/admin.ts).
  `
  ALTER TABLE accounts ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
  `,
  // 5: the audit log of admin changes (writes/admin.ts); only appended.
  `
  CREATE TABLE audit (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     bigint NOT NULL,
    actor  text NOT NULL,
    ip     text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail text NOT NULL
  );
  `,
  // 6: the per-account change log behind JMAP states (see change_log.ts).
  CHANGE_LOG_MIGRATION,
  // 7: JMAP Identity/EmailSubmission/VacationResponse/PushSubscription documents
  // (writes/jmap_records.ts), one per account and type.
  `
  CREATE TABLE jmap_records (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type       text COLLATE "C" NOT NULL,
    doc        text NOT NULL,
    PRIMARY KEY (account_id, type)
  );
  `,
  // 8: JMAP threads (writes/threads.ts) and the indexes of Email/get and Email/query
  // (reads/threads.ts); mail already stored is threaded when the store opens.
  `
  CREATE TABLE email_threads (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    blob_id    bigint NOT NULL,
    thread_id  bigint NOT NULL,
    PRIMARY KEY (account_id, blob_id)
  );
  CREATE INDEX email_threads_thread ON email_threads(account_id, thread_id);
  -- Message-IDs seen in an account, with the thread and base subject of their message.
  CREATE TABLE thread_message_ids (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id text COLLATE "C" NOT NULL,
    thread_id  bigint NOT NULL,
    subject    text COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, message_id)
  );
  CREATE INDEX messages_mailbox_blob ON messages(mailbox_id, blob_id);
  CREATE INDEX messages_date ON messages(mailbox_id, internal_date, blob_id);
  CREATE INDEX messages_size ON messages(mailbox_id, size, blob_id);
  CREATE INDEX messages_blob ON messages(blob_id);
  INSERT INTO meta (key, value) VALUES ('threads_backfill', 1);
  `,
  // 9: blobs are no longer shared by digest (writes/blobs.ts): the same bytes appended
  // twice are two JMAP Emails, as on SQLite.
  `
  ALTER TABLE blobs DROP CONSTRAINT blobs_digest_key;
  `,
  // 10: the horizons of pruned expunge records and change log (retention.ts).
  HISTORY_PRUNED_MIGRATION,
  // 11: queue claims of several nodes (writes/queue.ts claimQueue): the node delivering an
  // entry and until when; another node takes the entry once lease_until has passed.
  `
  ALTER TABLE queue ADD COLUMN lease_node text;
  ALTER TABLE queue ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;
  `,
  // 12: named leases that hold across nodes (writes/leases.ts; the POP3 maildrop lock).
  `
  CREATE TABLE leases (
    name   text COLLATE "C" PRIMARY KEY,
    holder text NOT NULL,
    until  bigint NOT NULL
  );
  `,
  // 13: trigram indexes for SEARCH (text.ts). pg_trgm is a trusted extension (PostgreSQL 13+:
  // a database owner may install it); where it cannot be installed, SEARCH stays correct and
  // reads the texts instead (a notice, not a failure).
  `
  DO $$
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX blob_text_header_trgm ON blob_text USING gin (header gin_trgm_ops);
    CREATE INDEX blob_text_body_trgm ON blob_text USING gin (body gin_trgm_ops);
  EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
    RAISE NOTICE 'pg_trgm unavailable (%): SEARCH reads message texts', SQLERRM;
  END $$;
  `,
  // 14: a plain delivery in one call (deliver_sql.ts; writes/deliver_one.ts).
  DELIVER_ONE_MIGRATION,
  // 15 "blob_bodies": bodies of 4 KB and more stored once by digest (blob_store.ts).
  BLOB_BODIES_MIGRATION,
  // 16: search text made after the delivery (search_index.ts): the blobs still to index.
  SEARCH_PENDING_MIGRATION,
  // 17: a plain delivery with one statement fewer under the locks; lz4 for message bytes
  // (deliver_sql.ts).
  DELIVER_ONE_V2_MIGRATION,
  // 18: directory changes announced to every node's cache (directory_cache.ts).
  DIRECTORY_NOTIFY_MIGRATION,
  // 19 "imap_writes": IMAP STORE, EXPUNGE and APPEND in one call each (imap_sql.ts).
  IMAP_WRITES_MIGRATION,
  // 20 "deliver_batch": a group commit's placements in one statement (deliver_sql.ts).
  DELIVER_BATCH_MIGRATION,
  // 21 "deliver_batch_blobs": a group commit as one statement, blobs included (deliver_sql.ts).
  DELIVER_BATCH_BLOBS_MIGRATION,
  // 22 "deliver_set": a group commit's placements set-based, the message row triggers
  // skipping them (deliver_set_sql.ts).
  DELIVER_SET_MIGRATION,
  // 23 "deliver_known_bodies": a batch may name a shared body this node stored by its digest
  // alone (deliver_known_bodies_sql.ts).
  DELIVER_KNOWN_BODIES_MIGRATION,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Any constant: the advisory lock that serialises migrations across nodes. */
const MIGRATION_LOCK = 0x64656e6f; // "deno"

/** Applies every migration the database has not seen, each in its own transaction. */
export async function migrate(db: Db): Promise<void> {
  for (;;) {
    const done = await db.begin(async (tx) => {
      // First, so that even creating `schema_version` happens on one node at a time.
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`;
      const rows = await tx`SELECT version FROM schema_version`;
      if (rows.length === 0) await tx`INSERT INTO schema_version (version) VALUES (0)`;
      const current = rows.length === 0 ? 0 : Number(rows[0].version);
      if (current > SCHEMA_VERSION) {
        throw new Error(
          `postgres: database schema version ${current} is newer than this denomail (${SCHEMA_VERSION})`,
        );
      }
      if (current === SCHEMA_VERSION) return true;
      await tx.unsafe(MIGRATIONS[current]);
      await tx`UPDATE schema_version SET version = ${current + 1}`;
      return false;
    });
    if (done) return;
  }
}
