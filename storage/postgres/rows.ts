/**
 * The connection and the row -> interface mappers of the PostgreSQL store.
 *
 * `bigint` columns (ids, UIDs, modseqs, milliseconds, octets) come back as JS numbers: every
 * value the Store hands out is below 2^53.
 *
 * @module
 */
import postgres from "postgres";
import { noDelayOnConnect } from "./no_delay.ts";

/** A connection pool (or a transaction: both run queries). */
export type Db = postgres.Sql<Record<string, never>>;
/** A transaction. */
export type Tx = postgres.TransactionSql<Record<string, never>>;
/** A row as the driver returns it. */
export type Row = Record<string, unknown>;
/** Runs one read statement on the pool (the store's; reads/ modules get it). */
export type Read = (
  text: string,
  params: Array<string | number | boolean | null | number[] | Uint8Array>,
) => Promise<Row[]>;

/**
 * Options of the store's statements: prepared (named, per connection), so PostgreSQL parses
 * and plans each statement text once per connection instead of at every call — about a
 * third of the database's CPU per IMAP command. The texts are fixed strings (values are
 * always parameters), so each connection keeps a few dozen. (A pooler in transaction mode,
 * such as PgBouncer before 1.21, cannot follow named statements: connect directly.)
 */
export const PREPARED = { prepare: true } as const;

/** Opens a pool to `url` (`?sslmode=require` and the like are read by the driver). */
export function connect(url: string, opts: { max?: number } = {}): Db {
  noDelayOnConnect();
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

export {
  ACCOUNT_COLUMNS,
  API_TOKEN_COLUMNS,
  AUDIT_COLUMNS,
  MAILBOX_COLUMNS,
  MESSAGE_COLUMNS,
  parseFlags,
  QUEUE_COLUMNS,
  toAccount,
  toApiToken,
  toAuditEntry,
  toMailbox,
  toMessage,
  toQueueEntry,
  toUpload,
  UPLOAD_COLUMNS,
} from "../rows.ts";

/** A driver buffer as a plain Uint8Array (callers compare and keep it). */
export function toBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
