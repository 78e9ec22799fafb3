/**
 * SQLite schema and its versioned migrations (`PRAGMA user_version`).
 *
 * Invariants the schema itself maintains with triggers, so that no write path can forget:
 * - `blobs.refs` counts the `messages` and `queue` rows that point at a blob; a blob whose
 *   count drops to zero is deleted, with its `blob_data`, in the same transaction (messages
 *   share blobs across mailbox entries and queue entries).
 * - `mailboxes.messages`, `.unseen` and `.size` are the row count, the `seen = 0` count and the
 *   octet sum of the mailbox's messages, so STATUS, SELECT and QUOTA never scan messages.
 *
 * Only the writer connection migrates; readers open after it is ready.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { FTS_MIGRATION, FTS_NO_POSITIONS_MIGRATION } from "./fts.ts";
import { API_TOKENS_MIGRATION } from "./tokens.ts";
import { UPLOADS_MIGRATION } from "./uploads.ts";
import { ADMIN_ROLE_MIGRATION, AUDIT_MIGRATION } from "./admin.ts";
import { JMAP_RECORDS_MIGRATION } from "./jmap_records.ts";
import { CHANGE_LOG_MIGRATION } from "./change_log.ts";
import { backfillThreads, THREADS_MIGRATION } from "./threads.ts";
import { backfillDigests, BLOB_DIGESTS_MIGRATION } from "./blobs.ts";
import { HISTORY_PRUNED_MIGRATION } from "./retention.ts";

/** Migrations in order; migration i brings `user_version` from i to i + 1. Never edit one. */
const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE domains (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    domain        TEXT NOT NULL REFERENCES domains(name),
    password_hash TEXT NOT NULL,
    quota_bytes   INTEGER,
    created_at    INTEGER NOT NULL
  );
  CREATE INDEX accounts_domain ON accounts(domain);

  CREATE TABLE aliases (
    source  TEXT PRIMARY KEY,
    targets TEXT NOT NULL -- JSON array of lower-case addresses
  ) WITHOUT ROWID;

  CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    uid_validity   INTEGER NOT NULL,
    uid_next       INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    special_use    TEXT,
    messages       INTEGER NOT NULL DEFAULT 0,
    unseen         INTEGER NOT NULL DEFAULT 0,
    size           INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
  );

  -- RFC 9051 §6.3.9: subscriptions are names, which need not exist as mailboxes.
  CREATE TABLE subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
  ) WITHOUT ROWID;

  -- The bytes live apart from the refcount: SQLite rewrites a whole row on UPDATE, and a
  -- refcount change must not rewrite the message (measured: ~40% of delivery throughput).
  CREATE TABLE blobs (
    id   INTEGER PRIMARY KEY,
    refs INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL
  );
  CREATE TABLE blob_data (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
  );
  CREATE TRIGGER blobs_ad AFTER DELETE ON blobs BEGIN
    DELETE FROM blob_data WHERE id = OLD.id;
  END;

  -- No foreign key on blob_id: deleting a blob would then need an index on blob_id to check
  -- children; the refcount triggers below keep the reference honest instead.
  CREATE TABLE messages (
    mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    modseq        INTEGER NOT NULL,
    flags         TEXT NOT NULL DEFAULT '', -- space separated (flags are IMAP atoms)
    seen          INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    internal_date INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    blob_id       INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  -- CONDSTORE CHANGEDSINCE (RFC 7162 §3.1.4.1).
  CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
  -- First unseen / unseen UIDs without scanning seen messages.
  CREATE INDEX messages_unseen ON messages(mailbox_id, uid) WHERE seen = 0;

  -- QRESYNC VANISHED (EARLIER) (RFC 7162 §3.2.10).
  CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

  -- AUTOINCREMENT: queue ids are shown to admins and must not be reused.
  CREATE TABLE queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    blob_id         INTEGER NOT NULL,
    sender          TEXT NOT NULL,
    recipients      TEXT NOT NULL, -- JSON QueueRecipient[]
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    meta            TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX queue_due ON queue(next_attempt_at, id);

  CREATE TABLE kv (
    ns         TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (ns, key)
  ) WITHOUT ROWID;
  CREATE INDEX kv_expiry ON kv(expires_at) WHERE expires_at IS NOT NULL;

  CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;
    UPDATE mailboxes SET messages = messages + 1, unseen = unseen + (NEW.seen = 0),
      size = size + NEW.size WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET messages = messages - 1, unseen = unseen - (OLD.seen = 0),
      size = size - OLD.size WHERE id = OLD.mailbox_id;
    UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;
    DELETE FROM blobs WHERE id = OLD.blob_id AND refs <= 0;
  END;
  CREATE TRIGGER messages_au AFTER UPDATE OF mailbox_id, seen, size ON messages BEGIN
    UPDATE mailboxes SET messages = messages - 1, unseen = unseen - (OLD.seen = 0),
      size = size - OLD.size WHERE id = OLD.mailbox_id;
    UPDATE mailboxes SET messages = messages + 1, unseen = unseen + (NEW.seen = 0),
      size = size + NEW.size WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER queue_ai AFTER INSERT ON queue BEGIN
    UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;
  END;
  CREATE TRIGGER queue_ad AFTER DELETE ON queue BEGIN
    UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;
    DELETE FROM blobs WHERE id = OLD.blob_id AND refs <= 0;
  END;
  `,
  // 2: the full-text index for IMAP SEARCH (see fts.ts).
  FTS_MIGRATION,
  // 3: the full-text index without position lists (faster to build; see fts.ts).
  FTS_NO_POSITIONS_MIGRATION,
  // 4: JMAP bearer tokens (see tokens.ts).
  API_TOKENS_MIGRATION,
  // 5: JMAP uploads (see uploads.ts).
  UPLOADS_MIGRATION,
  // 6: the admin role on accounts (see admin.ts).
  ADMIN_ROLE_MIGRATION,
  // 7: the audit log of admin changes (see admin.ts).
  AUDIT_MIGRATION,
  // 8: JMAP Identity/EmailSubmission/VacationResponse/PushSubscription documents
  // (see jmap_records.ts).
  JMAP_RECORDS_MIGRATION,
  // 9: the per-account change log behind JMAP states (see change_log.ts).
  CHANGE_LOG_MIGRATION,
  // 10: JMAP threads and the indexes of Email/get and Email/query (see threads.ts).
  THREADS_MIGRATION,
  // 11: blob digests and bodies shared between identical deliveries (see blobs.ts).
  BLOB_DIGESTS_MIGRATION,
  // 12: the horizons of pruned expunge records and change log (see retention.ts).
  HISTORY_PRUNED_MIGRATION,
];

/** What migration `v` (0-based index) does, in a line: its statements' heads (dry runs). */
export function describeMigration(v: number): string {
  const heads = MIGRATIONS[v].replace(/--[^\n]*/g, "").replace(/\bBEGIN\b[\s\S]*?\bEND\b/g, "")
    .split(";").map((x) => x.trim().split(/\s+/).slice(0, 6).join(" ").replace(/\(.*$/, "").trim())
    .filter((x) => /^(CREATE|ALTER|DROP|INSERT|DELETE|UPDATE)/i.test(x));
  const parts = [...new Set(heads)];
  return `${v + 1}: ${parts.slice(0, 8).join("; ")}${parts.length > 8 ? "; ..." : ""}`;
}

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Pragmas every connection sets. */
function configure(db: DatabaseSync, busyTimeoutMs: number): void {
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs | 0}`);
  db.exec("PRAGMA foreign_keys = ON");
  // FULL: a commit is on disk when COMMIT returns (the Store's durability promise).
  db.exec("PRAGMA synchronous = FULL");
}

/**
 * Opens the connection that writes: WAL, synchronous=FULL, foreign keys, busy timeout, and
 * brings the schema up to date.
 */
export function openWriteDatabase(path: string, busyTimeoutMs = 10_000): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    configure(db, busyTimeoutMs);
    // WAL lets the read connection see committed data while the writer works.
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (path !== ":memory:" && mode.journal_mode.toLowerCase() !== "wal") {
      throw new Error(`sqlite: could not enable WAL on ${path} (got ${mode.journal_mode})`);
    }
    migrate(db);
    backfillThreads(db);
    backfillDigests(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens a read connection (`query_only`: a bug cannot write behind the writer's back). */
export function openReadDatabase(path: string, busyTimeoutMs = 10_000): DatabaseSync {
  const db = new DatabaseSync(path);
  configure(db, busyTimeoutMs);
  db.exec("PRAGMA query_only = ON");
  return db;
}

/** Applies every migration the database has not seen, each in its own transaction. */
export function migrate(db: DatabaseSync): void {
  const { user_version: current } = db.prepare("PRAGMA user_version").get() as {
    user_version: number;
  };
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `sqlite: database schema version ${current} is newer than this denomail (${SCHEMA_VERSION})`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
}
