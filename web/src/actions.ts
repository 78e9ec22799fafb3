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

/** Moves one Email for `action`; returns the id of the mailbox it is now in. */
export async function moveEmail(
  jmap: Jmap,
  mailboxes: Mailbox[],
  emailId: string,
  action: MoveAction,
): Promise<string> {
  const { role, name } = TARGET[action];
  const target = mailboxes.find((m) => m.role === role)?.id ??
    await jmap.createMailbox(name, role);
  await jmap.updateEmails({
    [emailId]: { mailboxIds: { [target]: true }, ...KEYWORDS[action] },
  });
  return target;
}

/** Marks an Email read (a patch of the one keyword, so other flags stay). */
export function markSeen(jmap: Jmap, emailId: string): Promise<void> {
  return jmap.updateEmails({ [emailId]: { "keywords/$seen": true } });
}
