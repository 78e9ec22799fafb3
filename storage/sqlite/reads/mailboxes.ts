/**
 * Mailbox reads of the SQLite store: counters (kept by triggers) and account usage.
 *
 * @module
 */
import { type Mailbox, type MailboxStatus, StoreError } from "../../mod.ts";
import { normalizeMailboxName } from "../../names.ts";
import { MAILBOX_COLUMNS, type Statements, toMailbox } from "../rows.ts";
import { row } from "./query.ts";
import { toMailboxStatus } from "../../rows.ts";

/**
 * Counters come from the mailbox row (kept by triggers); the first unseen message is
 * found on the partial `seen = 0` index and its sequence number by counting the UIDs
 * below it on the primary key.
 */
export function mailboxStatus(read: Statements, mailboxId: number): MailboxStatus {
  // One statement: one snapshot, so the counters and firstUnseen agree.
  const r = row(
    read,
    `SELECT m.messages, m.unseen, m.size, m.uid_next, m.uid_validity, m.highest_modseq,
       f.uid AS first_unseen_uid,
       (SELECT count(*) FROM messages WHERE mailbox_id = m.id AND uid < f.uid) AS below
     FROM mailboxes m,
       (SELECT min(uid) AS uid FROM messages WHERE mailbox_id = ?1 AND seen = 0) f
     WHERE m.id = ?1`,
    mailboxId,
  );
  if (!r) throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
  return toMailboxStatus(r);
}

export function accountUsage(read: Statements, accountId: number): number {
  const r = row(
    read,
    "SELECT coalesce(sum(size), 0) AS used FROM mailboxes WHERE account_id = ?",
    accountId,
  )!;
  return r.used as number;
}

export function getMailbox(read: Statements, accountId: number, name: string): Mailbox | null {
  let normalized: string;
  try {
    normalized = normalizeMailboxName(name);
  } catch {
    return null; // an invalid name names no mailbox
  }
  const r = row(
    read,
    `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ? AND m.name = ?`,
    accountId,
    normalized,
  );
  return r ? toMailbox(r) : null;
}
