/**
 * Row -> interface mappers that both backends share (sqlite/, postgres/): the columns each
 * read selects and how a row becomes a Store type. Rows are plain column -> value records;
 * each backend makes its integers JS numbers before they get here.
 *
 * @module
 */
import type {
  Account,
  ApiToken,
  AuditEntry,
  Mailbox,
  MailboxStatus,
  MessageMeta,
  QueueEntry,
  SpecialUse,
  Upload,
} from "./mod.ts";

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

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
    // EXISTS is a boolean on PostgreSQL, 0/1 on SQLite.
    subscribed: r.subscribed === true || r.subscribed === 1,
  };
}

export const MESSAGE_COLUMNS = "mailbox_id, uid, modseq, flags, internal_date, size, blob_id";

/** Flags are stored space separated ("" for none); IMAP flags are atoms without spaces. */
export function parseFlags(text: string): string[] {
  return text === "" ? [] : text.split(" ");
}

export function toMessage(r: Row): MessageMeta {
  return {
    mailboxId: r.mailbox_id as number,
    uid: r.uid as number,
    modseq: r.modseq as number,
    flags: parseFlags(r.flags as string),
    internalDate: r.internal_date as number,
    size: r.size as number,
    blobId: r.blob_id as number,
  };
}

export const QUEUE_COLUMNS =
  "id, blob_id, sender, recipients, created_at, next_attempt_at, attempts, last_error, meta";

export function toQueueEntry(r: Row): QueueEntry {
  return {
    id: r.id as number,
    blobId: r.blob_id as number,
    sender: r.sender as string,
    recipients: JSON.parse(r.recipients as string),
    createdAt: r.created_at as number,
    nextAttemptAt: r.next_attempt_at as number,
    attempts: r.attempts as number,
    lastError: r.last_error as string | null,
    meta: JSON.parse(r.meta as string),
  };
}

export const API_TOKEN_COLUMNS = "id, account_id, name, created_at";

export function toApiToken(r: Row): ApiToken {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    name: r.name as string,
    createdAt: r.created_at as number,
  };
}

export const UPLOAD_COLUMNS = "id, account_id, type, size, created_at";

export function toUpload(r: Row): Upload {
  return {
    id: r.id as number,
    accountId: r.account_id as number,
    type: r.type as string,
    size: r.size as number,
    createdAt: r.created_at as number,
  };
}

export const AUDIT_COLUMNS = "id, at, actor, ip, action, target, detail";

export function toAuditEntry(r: Row): AuditEntry {
  return {
    id: r.id as number,
    at: r.at as number,
    actor: r.actor as string,
    ip: r.ip as string,
    action: r.action as string,
    target: r.target as string,
    detail: r.detail as string,
  };
}

/**
 * A mailbox status row (counters, UIDs, `first_unseen_uid` and `below`, the messages under
 * it) as a MailboxStatus. RFC 9051 §7.3.1 / RFC 3501 UNSEEN: the sequence number of the
 * first unseen message, 0 when none.
 */
export function toMailboxStatus(r: Row): MailboxStatus {
  return {
    messages: r.messages as number,
    unseen: r.unseen as number,
    size: r.size as number,
    uidNext: r.uid_next as number,
    uidValidity: r.uid_validity as number,
    highestModseq: r.highest_modseq as number,
    firstUnseen: r.first_unseen_uid === null ? 0 : (r.below as number) + 1,
  };
}
