/**
 * What `storage migrate --to postgres://…` copies, table by table, in an order that keeps
 * every reference valid (domains before accounts, blobs before messages and the queue).
 *
 * Ids are kept (a queue id, a mailbox id, a blob id — JMAP Email and Thread ids — stay
 * the same), and so are UIDVALIDITY, UIDs, UIDNEXT and MODSEQs: IMAP clients do not
 * resynchronise. Counters (mailbox message counts, blob reference counts) are not copied: the
 * PostgreSQL triggers recompute them as the rows arrive, and the verification compares them.
 * The JMAP change log is not copied either (its triggers start a fresh one): JMAP clients
 * get `cannotCalculateChanges` once and reload.
 *
 * @module
 */
import { BLOB_BYTES } from "../sqlite/blobs.ts";

/** A SQLite value as node:sqlite returns it. */
export type Cell = string | number | bigint | null | Uint8Array;
/** A row read from SQLite. */
export type Row = Record<string, Cell>;

/** How one table is read from SQLite and written to PostgreSQL. */
export interface TableSpec {
  /** The PostgreSQL table (and, unless `from` says otherwise, the SQLite one). */
  name: string;
  /** SQLite FROM clause (a join), when not just `name`. */
  from?: string;
  /** Columns read from SQLite (qualified when `from` joins). */
  select: string[];
  /** Key columns as named in the SQLite result, in order: chunks resume after the last one. */
  key: string[];
  /** The key columns as SQLite's WHERE and ORDER BY must name them (default: `key`). */
  keyExpr?: string[];
  /** PostgreSQL columns written, in the order `values` returns them. */
  columns: string[];
  /** The PostgreSQL parameter values of one row. */
  values(row: Row): unknown[];
  /** GENERATED ALWAYS AS IDENTITY `id`: inserted with OVERRIDING SYSTEM VALUE, sequence set. */
  identity?: boolean;
  /** Rows per transaction (smaller for tables holding message bytes). */
  chunk?: number;
}

const bool = (v: Cell) => Number(v) !== 0;
const num = (v: Cell) => v === null ? null : Number(v);
const utf8 = new TextEncoder();

/** Copy order and mapping of every table a SQLite data dir holds. */
export const TABLES: readonly TableSpec[] = [
  {
    name: "domains",
    select: ["name", "created_at"],
    key: ["name"],
    columns: ["name", "created_at"],
    values: (r) => [r.name, num(r.created_at)],
  },
  {
    name: "accounts",
    select: ["id", "email", "domain", "password_hash", "quota_bytes", "created_at", "is_admin"],
    key: ["id"],
    columns: ["id", "email", "domain", "password_hash", "quota_bytes", "created_at", "is_admin"],
    values: (r) => [
      num(r.id),
      r.email,
      r.domain,
      r.password_hash,
      num(r.quota_bytes),
      num(r.created_at),
      bool(r.is_admin),
    ],
    identity: true,
  },
  {
    name: "aliases",
    select: ["source", "targets"],
    key: ["source"],
    columns: ["source", "targets"],
    values: (r) => [r.source, r.targets],
  },
  {
    name: "mailboxes",
    select: [
      "id",
      "account_id",
      "name",
      "uid_validity",
      "uid_next",
      "highest_modseq",
      "special_use",
    ],
    key: ["id"],
    columns: [
      "id",
      "account_id",
      "name",
      "uid_validity",
      "uid_next",
      "highest_modseq",
      "special_use",
    ],
    values: (r) => [
      num(r.id),
      num(r.account_id),
      r.name,
      num(r.uid_validity),
      num(r.uid_next),
      num(r.highest_modseq),
      r.special_use,
    ],
    identity: true,
  },
  {
    name: "subscriptions",
    select: ["account_id", "name"],
    key: ["account_id", "name"],
    columns: ["account_id", "name"],
    values: (r) => [num(r.account_id), r.name],
  },
  {
    // Digest and search text are made on the way (see to_postgres.ts).
    name: "blobs",
    // A message's bytes may be split into its own head and a body shared by digest
    // (storage/sqlite/blobs.ts): BLOB_BYTES puts them back together.
    from: "blobs JOIN blob_data d ON d.id = blobs.id LEFT JOIN blob_bodies bb ON bb.id = d.body_id",
    select: ["blobs.id AS id", "blobs.size AS size", `${BLOB_BYTES} AS data`],
    key: ["id"],
    keyExpr: ["blobs.id"],
    columns: ["id", "digest", "size", "data"],
    values: (r) => [num(r.id), null, num(r.size), r.data],
    identity: true,
    chunk: 50,
  },
  {
    name: "messages",
    select: [
      "mailbox_id",
      "uid",
      "modseq",
      "flags",
      "seen",
      "deleted",
      "internal_date",
      "size",
      "blob_id",
    ],
    key: ["mailbox_id", "uid"],
    columns: [
      "mailbox_id",
      "uid",
      "modseq",
      "flags",
      "seen",
      "deleted",
      "internal_date",
      "size",
      "blob_id",
    ],
    values: (r) => [
      num(r.mailbox_id),
      num(r.uid),
      num(r.modseq),
      r.flags,
      bool(r.seen),
      bool(r.deleted),
      num(r.internal_date),
      num(r.size),
      num(r.blob_id),
    ],
  },
  {
    name: "expunged",
    select: ["mailbox_id", "uid", "modseq"],
    key: ["mailbox_id", "uid"],
    columns: ["mailbox_id", "uid", "modseq"],
    values: (r) => [num(r.mailbox_id), num(r.uid), num(r.modseq)],
  },
  {
    name: "queue",
    select: [
      "id",
      "blob_id",
      "sender",
      "recipients",
      "created_at",
      "next_attempt_at",
      "attempts",
      "last_error",
      "meta",
    ],
    key: ["id"],
    columns: [
      "id",
      "blob_id",
      "sender",
      "recipients",
      "created_at",
      "next_attempt_at",
      "attempts",
      "last_error",
      "meta",
    ],
    values: (r) => [
      num(r.id),
      num(r.blob_id),
      r.sender,
      r.recipients,
      num(r.created_at),
      num(r.next_attempt_at),
      num(r.attempts),
      r.last_error,
      r.meta,
    ],
    identity: true,
  },
  {
    name: "kv",
    select: ["ns", "key", "value", "expires_at"],
    key: ["ns", "key"],
    columns: ["ns", "key", "value", "expires_at"],
    values: (r) => [r.ns, r.key, utf8.encode(String(r.value)), num(r.expires_at)],
  },
  {
    name: "api_tokens",
    select: ["id", "account_id", "name", "token_hash", "created_at"],
    key: ["id"],
    columns: ["id", "account_id", "name", "token_hash", "created_at"],
    values: (r) => [num(r.id), num(r.account_id), r.name, r.token_hash, num(r.created_at)],
    identity: true,
  },
  {
    name: "uploads",
    select: ["id", "account_id", "type", "size", "created_at", "data"],
    key: ["id"],
    columns: ["id", "account_id", "type", "size", "created_at", "data"],
    values: (r) => [num(r.id), num(r.account_id), r.type, num(r.size), num(r.created_at), r.data],
    identity: true,
    chunk: 50,
  },
  {
    name: "audit",
    select: ["id", "at", "actor", "ip", "action", "target", "detail"],
    key: ["id"],
    columns: ["id", "at", "actor", "ip", "action", "target", "detail"],
    values: (r) => [num(r.id), num(r.at), r.actor, r.ip, r.action, r.target, r.detail],
    identity: true,
  },
  {
    name: "jmap_records",
    select: ["account_id", "type", "doc"],
    key: ["account_id", "type"],
    columns: ["account_id", "type", "doc"],
    values: (r) => [num(r.account_id), r.type, r.doc],
  },
  {
    name: "email_threads",
    select: ["account_id", "blob_id", "thread_id"],
    key: ["account_id", "blob_id"],
    columns: ["account_id", "blob_id", "thread_id"],
    values: (r) => [num(r.account_id), num(r.blob_id), num(r.thread_id)],
  },
  {
    name: "thread_message_ids",
    select: ["account_id", "message_id", "thread_id", "subject"],
    key: ["account_id", "message_id"],
    columns: ["account_id", "message_id", "thread_id", "subject"],
    values: (r) => [num(r.account_id), r.message_id, num(r.thread_id), r.subject],
  },
];
