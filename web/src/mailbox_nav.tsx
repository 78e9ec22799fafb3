/**
 * The "Mailboxes" navigation: one link per mailbox, its name first and the unread count
 * after (CONTRACT: the link's name starts with the mailbox's name).
 */
/// <reference lib="dom" />
import type { Mailbox } from "./jmap.ts";
import { href } from "./route.ts";

const ROLE_ORDER = ["inbox", "drafts", "sent", "archive", "junk", "trash"];

/** Special mailboxes first in the usual order, then the others by sortOrder and name. */
export function sortMailboxes(list: Mailbox[]): Mailbox[] {
  const rank = (m: Mailbox) => {
    const i = m.role ? ROLE_ORDER.indexOf(m.role) : -1;
    return i < 0 ? ROLE_ORDER.length : i;
  };
  return [...list].sort((a, b) =>
    rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name)
  );
}

export function MailboxNav(
  props: { mailboxes: Mailbox[]; current: string | null; onPick: () => void },
) {
  return (
    <nav class="mailboxes" aria-label="Mailboxes">
      <ul>
        {props.mailboxes.map((m) => (
          <li key={m.id}>
            <a
              href={href(m.id)}
              onClick={props.onPick}
              aria-current={m.id === props.current ? "page" : undefined}
            >
              <span class="name">{m.name}</span>
              {m.unreadEmails > 0 && <span class="count">{` ${m.unreadEmails}`}</span>}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
