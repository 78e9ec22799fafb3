/**
 * The connection and the row -> interface mappers of the PostgreSQL store.
 *
 * `bigint` columns (ids, UIDs, modseqs, milliseconds, octets) come back as JS numbers: every
 * value the Store hands out is below 2^53.
 *
 * @module
 */
import postgres from "postgres";
import type { Account, Mailbox, SpecialUse } from "../mod.ts";

/** A connection pool (or a transaction: both run queries). */
export type Db = postgres.Sql<Record<string, never>>;
/** A transaction. */
export type Tx = postgres.TransactionSql<Record<string, never>>;
/** A row as the driver returns it. */
export type Row = Record<string, unknown>;
/** Runs one read statement on the pool (the store's; reads/ modules get it). */
export type Read = (
  text: string,
  params: Array<string | number | boolean | null | number[]>,
) => Promise<Row[]>;

/** Opens a pool to `url` (`?sslmode=require` and the like are read by the driver). */
export function connect(url: string, opts: { max?: number } = {}): Db {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // int8 (20) as a number; count(*) and bigint sums are int8 too.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number) => String(x),
        parse: (x: string) => Number(x),
      },
    },
  }) as unknown as Db;
}

export const ACCOUNT_COLUMNS = "id, email, password_hash, quota_bytes, created_at";

export function toAccount(r: Row): Account {
  return {
    id: r.id as number,
    email: r.email as string,
    passwordHash: r.password_hash as string,
    quotaBytes: r.quota_bytes as number | null,
    createdAt: r.created_at as number,
  };
}

/** Mailbox columns; `subscribed` comes from the subscriptions table (one source of truth). */
export const MAILBOX_COLUMNS = `m.id, m.account_id, m.name, m.uid_validity, m.uid_next,
  m.highest_modseq, m.special_use,
  EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name)
    AS subscribed`;

export function toMailbox(r: Row): Mailbox {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    name: r.name as string,
    uidValidity: r.uid_validity as number,
    uidNext: r.uid_next as number,
    highestModseq: r.highest_modseq as number,
    specialUse: r.special_use as SpecialUse | null,
    subscribed: r.subscribed === true,
  };
}

export {
  API_TOKEN_COLUMNS,
  AUDIT_COLUMNS,
  MESSAGE_COLUMNS,
  parseFlags,
  QUEUE_COLUMNS,
  toApiToken,
  toAuditEntry,
  toMessage,
  toQueueEntry,
  toUpload,
  UPLOAD_COLUMNS,
} from "../rows.ts";

/** A driver buffer as a plain Uint8Array (callers compare and keep it). */
export function toBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
