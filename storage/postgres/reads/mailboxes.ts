/**
 * Mailbox reads of the PostgreSQL store that are more than a row lookup.
 *
 * @module
 */
import { type MailboxStatus, StoreError } from "../../mod.ts";
import type { Read } from "../rows.ts";
import { toMailboxStatus } from "../../rows.ts";

/** Counters from the mailbox row (kept by triggers); one statement, one snapshot. */
export async function mailboxStatus(read: Read, mailboxId: number): Promise<MailboxStatus> {
  const [r] = await read(
    `SELECT m.messages, m.unseen, m.size, m.uid_next, m.uid_validity, m.highest_modseq,
       f.uid AS first_unseen_uid,
       (SELECT count(*) FROM messages WHERE mailbox_id = m.id AND uid < f.uid) AS below
     FROM mailboxes m,
       (SELECT min(uid) AS uid FROM messages WHERE mailbox_id = $1 AND NOT seen) f
     WHERE m.id = $1`,
    [mailboxId],
  );
  if (!r) throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
  return toMailboxStatus(r);
}
