/**
 * Message actions of the reader: Delete, Archive, Mark as junk and Not junk move an Email to
 * the mailbox with that role (RFC 8621 §2 roles; Archive is created when missing) by
 * replacing its mailboxIds; junk marks set $junk / $notjunk so that the spam filter learns
 * (core/junk_learning.ts). Opening a message sets $seen.
 *
 * @module
 */
import type { Jmap, Mailbox } from "./jmap.ts";

export type MoveAction = "delete" | "archive" | "junk" | "notjunk";

const TARGET: Record<MoveAction, { role: string; name: string }> = {
  delete: { role: "trash", name: "Trash" },
  archive: { role: "archive", name: "Archive" },
  junk: { role: "junk", name: "Junk" },
  notjunk: { role: "inbox", name: "Inbox" },
};

const KEYWORDS: Partial<Record<MoveAction, Record<string, true | null>>> = {
  junk: { "keywords/$junk": true, "keywords/$notjunk": null },
  notjunk: { "keywords/$notjunk": true, "keywords/$junk": null },
};

/** Moves Emails for `action`; returns the id of the mailbox they are now in. */
export async function moveEmails(
  jmap: Jmap,
  mailboxes: Mailbox[],
  emailIds: string[],
  action: MoveAction,
): Promise<string> {
  const { role, name } = TARGET[action];
  const target = mailboxes.find((m) => m.role === role)?.id ??
    await jmap.createMailbox(name, role);
  await jmap.updateEmails(Object.fromEntries(
    emailIds.map((id) => [id, { mailboxIds: { [target]: true }, ...KEYWORDS[action] }]),
  ));
  return target;
}

/** Moves Emails into one mailbox (drag and drop): it becomes their only mailbox. */
export function moveToMailbox(jmap: Jmap, emailIds: string[], mailboxId: string): Promise<void> {
  return jmap.updateEmails(
    Object.fromEntries(emailIds.map((id) => [id, { mailboxIds: { [mailboxId]: true } }])),
  );
}

/**
 * Sets or clears one keyword ($seen, $flagged) on Emails: a patch of that keyword alone
 * (RFC 8620 §5.3 patch paths), so other flags stay as they are.
 */
export function setKeyword(
  jmap: Jmap,
  emailIds: string[],
  keyword: string,
  on: boolean,
): Promise<void> {
  return jmap.updateEmails(
    Object.fromEntries(emailIds.map((id) => [id, { [`keywords/${keyword}`]: on ? true : null }])),
  );
}

/** Marks an Email read. */
export function markSeen(jmap: Jmap, emailId: string): Promise<void> {
  return setKeyword(jmap, [emailId], "$seen", true);
}
