/**
 * What every write function gets (`WriteContext`) and the row helpers they share:
 * lookups that throw StoreError "not_found", UID and modseq reservation, blob and message
 * inserts, quota checks. Nothing here commits: the batch (`../batch.ts`) owns the transaction.
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
  type Row,
  type Statements,
  toAccount,
  toMailbox,
  toMessage,
} from "../rows.ts";

/** What a write function gets besides its arguments. */
export interface WriteContext {
  /** Cached statements of the write connection (inside an open transaction). */
  readonly sql: Statements;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** Changes this request made; published after the commit. */
  readonly changes: MailboxChange[];
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

export function account(ctx: WriteContext, email: string): Account {
  const r = ctx.sql.get(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = ?`).get(
    normalizeEmail(email).email,
  ) as Row | undefined;
  if (!r) throw new StoreError("not_found", `no such account: ${email}`);
  return toAccount(r);
}

export function mailboxById(ctx: WriteContext, id: number): Mailbox {
  const r = ctx.sql.get(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = ?`).get(id) as
    | Row
    | undefined;
  if (!r) throw new StoreError("not_found", `no such mailbox: ${id}`);
  return toMailbox(r);
}

export function mailboxByName(ctx: WriteContext, accountId: number, name: string): Mailbox | null {
  const r = ctx.sql.get(
    `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ? AND m.name = ?`,
  ).get(accountId, name) as Row | undefined;
  return r ? toMailbox(r) : null;
}

/**
 * A fresh UIDVALIDITY: seconds since the epoch, but always above every value handed out
 * before, so a mailbox deleted and recreated within a second still gets a new one
 * (RFC 9051 §2.3.1.1: a reused name with new UIDs must change UIDVALIDITY).
 */
export function nextUidValidity(ctx: WriteContext): number {
  const last = (ctx.sql.get("SELECT value FROM meta WHERE key = 'uid_validity'").get() as
    | Row
    | undefined)?.value as number | undefined ?? 0;
  // UIDVALIDITY is a non-zero 32-bit number (RFC 9051 §9 nz-number).
  const next = Math.max(last + 1, Math.floor(ctx.now() / 1000)) % 0x1_0000_0000 || 1;
  ctx.sql.get("INSERT OR REPLACE INTO meta (key, value) VALUES ('uid_validity', ?)").run(next);
  return next;
}

export function insertMailbox(
  ctx: WriteContext,
  accountId: number,
  name: string,
  specialUse: SpecialUse | null,
): Mailbox {
  if (specialUse !== null && !SPECIAL_USES.has(specialUse)) {
    throw new StoreError("invalid", `invalid special-use attribute: ${specialUse}`);
  }
  if (mailboxByName(ctx, accountId, name)) {
    throw new StoreError("exists", `mailbox already exists: ${name}`);
  }
  const { lastInsertRowid } = ctx.sql.get(
    "INSERT INTO mailboxes (account_id, name, uid_validity, special_use) VALUES (?, ?, ?, ?)",
  ).run(accountId, name, nextUidValidity(ctx), specialUse);
  return mailboxById(ctx, Number(lastInsertRowid));
}

/** Throws StoreError "quota" when adding `adding` octets would exceed the account's quota. */
export function checkQuota(ctx: WriteContext, accountId: number, adding: number): void {
  const r = ctx.sql.get("SELECT email, quota_bytes FROM accounts WHERE id = ?").get(accountId) as
    | Row
    | undefined;
  if (!r) throw new StoreError("not_found", `no such account: ${accountId}`);
  const quota = r.quota_bytes as number | null;
  if (quota === null) return;
  const { used } = ctx.sql.get(
    "SELECT coalesce(sum(size), 0) AS used FROM mailboxes WHERE account_id = ?",
  ).get(accountId) as { used: number };
  if (used + adding > quota) throw new StoreError("quota", `quota exceeded for ${r.email}`);
}

/**
 * Reserves `count` UIDs in a mailbox and a new modseq for the change (RFC 7162 §3.1: every
 * change raises HIGHESTMODSEQ). Returns the first UID and the modseq.
 */
export function bumpMailbox(
  ctx: WriteContext,
  mailboxId: number,
  count: number,
): { firstUid: number; modseq: number; uidValidity: number } {
  const r = ctx.sql.get(
    `UPDATE mailboxes SET uid_next = uid_next + ?, highest_modseq = highest_modseq + 1
     WHERE id = ? RETURNING uid_next, highest_modseq, uid_validity`,
  ).get(count, mailboxId) as Row | undefined;
  if (!r) throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
  return {
    firstUid: (r.uid_next as number) - count,
    modseq: r.highest_modseq as number,
    uidValidity: r.uid_validity as number,
  };
}

export function insertMessage(
  ctx: WriteContext,
  m: Omit<MessageMeta, "flags"> & { flags: string[] },
): void {
  ctx.sql.get(
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
       blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    m.mailboxId,
    m.uid,
    m.modseq,
    m.flags.join(" "),
    m.flags.includes("\\Seen") ? 1 : 0,
    m.flags.includes("\\Deleted") ? 1 : 0,
    m.internalDate,
    m.size,
    m.blobId,
  );
}

export function selectMessages(
  ctx: WriteContext,
  mailboxId: number,
  uids: number[],
): MessageMeta[] {
  return (ctx.sql.get(
    `SELECT ${MESSAGE_COLUMNS} FROM messages
     WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
  ).all(mailboxId, JSON.stringify(uids)) as Row[]).map(toMessage);
}

export function checkUids(uids: number[]): void {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) {
    throw new StoreError("invalid", "UIDs must be positive integers");
  }
}

export function mailboxChanged(ctx: WriteContext, accountId: number): void {
  ctx.changes.push({ kind: "mailbox", accountId });
}

export function recordExpunged(
  ctx: WriteContext,
  mailboxId: number,
  uids: number[],
  modseq: number,
) {
  const stmt = ctx.sql.get(
    "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)",
  );
  for (const uid of uids) stmt.run(mailboxId, uid, modseq);
}

export function checkMessage(message: Uint8Array): void {
  if (!(message instanceof Uint8Array)) {
    throw new StoreError("invalid", "message must be a Uint8Array");
  }
}
