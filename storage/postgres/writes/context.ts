/**
 * What every PostgreSQL write function gets (`WriteContext`) and the row helpers they share:
 * lookups that throw StoreError "not_found", row locks, UID and modseq reservation, message
 * inserts, quota checks. Nothing here commits: the store (`../store.ts`) runs each write in
 * its own transaction.
 *
 * Locks, always taken in this order so that writers queue instead of deadlocking: account
 * rows (ascending id), then the accounts' change-log locks (`lockChangeLogs`, ascending;
 * `lockMailboxes` takes those of its mailboxes' accounts), then mailbox rows (ascending id),
 * then blob rows. A write that adds
 * messages locks its accounts first (the quota check then sees every committed octet and no
 * concurrent delivery can slip past it), then its mailboxes (UIDs and modseqs are handed out
 * under the mailbox's row lock, held until COMMIT, so UIDs commit in increasing order).
 *
 * @module
 */
import {
  type Account,
  type Mailbox,
  type MailboxChange,
  type MessageMeta,
  type SpecialUse,
  StoreError,
} from "../../mod.ts";
import { normalizeEmail } from "../../names.ts";
import {
  ACCOUNT_COLUMNS,
  MAILBOX_COLUMNS,
  MESSAGE_COLUMNS,
  PREPARED,
  type Row,
  toAccount,
  toMailbox,
  toMessage,
  type Tx,
} from "../rows.ts";
import { CHANGE_LOG_LOCK_CLASS } from "../change_log.ts";

/** What a write function gets besides its arguments. */
export interface WriteContext {
  /** The write's transaction. */
  readonly tx: Tx;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** Changes this write made; published after the commit. */
  readonly changes: MailboxChange[];
  /** This instance's NOTIFY origin (change_bus.ts), for a write that notifies itself. */
  readonly origin?: string;
  /** How many of `changes` (the first ones) the write already sent with pg_notify. */
  notified?: number;
}

/** A parameter of a query. */
export type Param =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | number[]
  | string[]
  | Array<number | null>;

/**
 * Runs one statement in the write's transaction. It is sent at once (the driver's queries
 * are lazy otherwise), so statements go out in the order of the calls: several issued
 * before the first is awaited travel together (pipelined: one round trip), and each still
 * runs after the one before it — a read sent after a lock sees what the lock protects.
 * Await such a group with Promise.all (an error aborts the transaction; every rejection
 * must be handled).
 */
export function q(ctx: WriteContext, text: string, params: Param[] = []): Promise<Row[]> {
  const query = ctx.tx.unsafe(text, params as never[], PREPARED);
  query.execute();
  return query as unknown as Promise<Row[]>;
}

/** The first row of a statement, or undefined. */
export async function q1(
  ctx: WriteContext,
  text: string,
  params: Param[] = [],
): Promise<Row | undefined> {
  return (await q(ctx, text, params))[0];
}

const SPECIAL_USES: ReadonlySet<string> = new Set([
  "\\Drafts",
  "\\Sent",
  "\\Trash",
  "\\Junk",
  "\\Archive",
  "\\All",
  "\\Flagged",
]);

export async function account(ctx: WriteContext, email: string): Promise<Account> {
  const r = await q1(ctx, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $1`, [
    normalizeEmail(email).email,
  ]);
  if (!r) throw new StoreError("not_found", `no such account: ${email}`);
  return toAccount(r);
}

/**
 * Locks the accounts' rows (ascending id); throws "not_found" for a missing one. FOR NO KEY
 * UPDATE: writers of one account still queue, but a foreign-key check on the account (KEY
 * SHARE, which a write that updates its mailbox row twice takes) never waits behind it —
 * with FOR UPDATE, a STORE \Seen and a delivery to the same account deadlocked (retried).
 */
export async function lockAccounts(ctx: WriteContext, ids: number[]): Promise<void> {
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const r = await q1(ctx, "SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE", [id]);
    if (!r) throw new StoreError("not_found", `no such account: ${id}`);
  }
}

/**
 * Takes the change-log locks of the accounts (ascending; see ../change_log.ts) before any
 * mailbox row, so that the change-log triggers find them held and never wait behind a
 * writer that waits for a mailbox this write holds.
 */
export async function lockChangeLogs(ctx: WriteContext, accountIds: number[]): Promise<void> {
  if (accountIds.length === 0) return;
  await q(
    ctx,
    `SELECT pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, k) FROM
       (SELECT DISTINCT (a % 2147483647)::int AS k FROM unnest($1::bigint[]) AS a ORDER BY k) s`,
    [accountIds],
  );
}

export async function mailboxById(ctx: WriteContext, id: number): Promise<Mailbox> {
  const r = await q1(ctx, `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = $1`, [id]);
  if (!r) throw new StoreError("not_found", `no such mailbox: ${id}`);
  return toMailbox(r);
}

/** Locks the mailboxes' rows (ascending id; FOR NO KEY UPDATE, as `lockAccounts`); by id. */
export async function lockMailboxes(
  ctx: WriteContext,
  ids: number[],
): Promise<Map<number, Mailbox>> {
  // The change-log locks of their accounts first (see lockChangeLogs), then the rows in
  // ascending id: all sent together, run in that order.
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const [, ...rows] = await Promise.all([
    q(
      ctx,
      `SELECT pg_advisory_xact_lock(${CHANGE_LOG_LOCK_CLASS}, k) FROM
         (SELECT DISTINCT (account_id % 2147483647)::int AS k FROM mailboxes
          WHERE id = ANY($1::bigint[]) ORDER BY k) s`,
      [ids],
    ),
    ...sorted.map((id) =>
      q(ctx, `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = $1 FOR NO KEY UPDATE OF m`, [
        id,
      ])
    ),
  ]);
  const out = new Map<number, Mailbox>();
  sorted.forEach((id, i) => {
    const r = rows[i][0];
    if (!r) throw new StoreError("not_found", `no such mailbox: ${id}`);
    out.set(id, toMailbox(r));
  });
  return out;
}

export async function mailboxByName(
  ctx: WriteContext,
  accountId: number,
  name: string,
): Promise<Mailbox | null> {
  const r = await q1(
    ctx,
    `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = $1 AND m.name = $2`,
    [accountId, name],
  );
  return r ? toMailbox(r) : null;
}

/**
 * A fresh UIDVALIDITY: seconds since the epoch, but always above every value handed out
 * before (RFC 9051 §2.3.1.1), under the meta row's lock so that nodes never hand out one twice.
 */
export async function nextUidValidity(ctx: WriteContext): Promise<number> {
  const seconds = Math.floor(ctx.now() / 1000);
  // UIDVALIDITY is a non-zero 32-bit number (RFC 9051 §9 nz-number).
  const r = await q1(
    ctx,
    `UPDATE meta SET value = CASE WHEN greatest(value + 1, $1) >= 4294967296 THEN 1
       ELSE greatest(value + 1, $1) END
     WHERE key = 'uid_validity' RETURNING value`,
    [seconds],
  );
  return r!.value as number;
}

/** Throws StoreError "invalid" unless `specialUse` is null or an RFC 6154 attribute. */
export function checkSpecialUse(specialUse: SpecialUse | null): void {
  if (specialUse !== null && !SPECIAL_USES.has(specialUse)) {
    throw new StoreError("invalid", `invalid special-use attribute: ${specialUse}`);
  }
}

export async function insertMailbox(
  ctx: WriteContext,
  accountId: number,
  name: string,
  specialUse: SpecialUse | null,
): Promise<Mailbox> {
  checkSpecialUse(specialUse);
  if (await mailboxByName(ctx, accountId, name)) {
    throw new StoreError("exists", `mailbox already exists: ${name}`);
  }
  const r = await q1(
    ctx,
    `INSERT INTO mailboxes (account_id, name, uid_validity, special_use) VALUES ($1, $2, $3, $4)
     RETURNING id`,
    [accountId, name, await nextUidValidity(ctx), specialUse],
  );
  return mailboxById(ctx, r!.id as number);
}

/** Throws StoreError "quota" when adding `adding` octets would exceed the account's quota. */
export async function checkQuota(
  ctx: WriteContext,
  accountId: number,
  adding: number,
): Promise<void> {
  const r = await q1(
    ctx,
    `SELECT a.email, a.quota_bytes,
       (SELECT coalesce(sum(size), 0)::bigint FROM mailboxes WHERE account_id = a.id) AS used
     FROM accounts a WHERE a.id = $1`,
    [accountId],
  );
  if (!r) throw new StoreError("not_found", `no such account: ${accountId}`);
  const quota = r.quota_bytes as number | null;
  if (quota === null) return;
  if ((r.used as number) + adding > quota) {
    throw new StoreError("quota", `quota exceeded for ${r.email}`);
  }
}

/**
 * Reserves `count` UIDs in a mailbox and a new modseq for the change (RFC 7162 §3.1: every
 * change raises HIGHESTMODSEQ). The caller holds the mailbox's row lock.
 */
export async function bumpMailbox(
  ctx: WriteContext,
  mailboxId: number,
  count: number,
): Promise<{ firstUid: number; modseq: number; uidValidity: number }> {
  const r = await q1(
    ctx,
    `UPDATE mailboxes SET uid_next = uid_next + $1, highest_modseq = highest_modseq + 1
     WHERE id = $2 RETURNING uid_next, highest_modseq, uid_validity`,
    [count, mailboxId],
  );
  if (!r) throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
  return {
    firstUid: (r.uid_next as number) - count,
    modseq: r.highest_modseq as number,
    uidValidity: r.uid_validity as number,
  };
}

/** Inserts message rows (one statement for many). */
export async function insertMessages(ctx: WriteContext, ms: MessageMeta[]): Promise<void> {
  if (ms.length === 0) return;
  const col = <T>(f: (m: MessageMeta) => T) => ms.map(f);
  // Booleans travel as 0/1: the driver cannot send a boolean[] parameter.
  await q(
    ctx,
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
       blob_id)
     SELECT mb, uid, ms, fl, se <> 0, de <> 0, idate, sz, bl
     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], $6::int[],
       $7::bigint[], $8::bigint[], $9::bigint[]) AS v(mb, uid, ms, fl, se, de, idate, sz, bl)`,
    [
      col((m) => m.mailboxId),
      col((m) => m.uid),
      col((m) => m.modseq),
      col((m) => m.flags.join(" ")) as never,
      col((m) => m.flags.includes("\\Seen") ? 1 : 0),
      col((m) => m.flags.includes("\\Deleted") ? 1 : 0),
      col((m) => m.internalDate),
      col((m) => m.size),
      col((m) => m.blobId),
    ],
  );
}

export async function selectMessages(
  ctx: WriteContext,
  mailboxId: number,
  uids: number[],
): Promise<MessageMeta[]> {
  return (await q(
    ctx,
    `SELECT ${MESSAGE_COLUMNS} FROM messages
     WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid`,
    [mailboxId, uids],
  )).map(toMessage);
}

export function checkUids(uids: number[]): void {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) {
    throw new StoreError("invalid", "UIDs must be positive integers");
  }
}

export function mailboxChanged(ctx: WriteContext, accountId: number): void {
  ctx.changes.push({ kind: "mailbox", accountId });
}

/** `modseq` null: the mailbox's highest modseq when the statement runs. */
export async function recordExpunged(
  ctx: WriteContext,
  mailboxId: number,
  uids: number[],
  modseq: number | null,
): Promise<void> {
  await q(
    ctx,
    `INSERT INTO expunged (mailbox_id, uid, modseq)
     SELECT $1, u, coalesce($3::bigint, (SELECT highest_modseq FROM mailboxes WHERE id = $1))
     FROM unnest($2::bigint[]) u
     ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`,
    [mailboxId, uids, modseq],
  );
}

export function checkMessage(message: Uint8Array): void {
  if (!(message instanceof Uint8Array)) {
    throw new StoreError("invalid", "message must be a Uint8Array");
  }
}
