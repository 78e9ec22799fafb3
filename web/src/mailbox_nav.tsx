/**
 * The "Mailboxes" navigation: one link per mailbox, its name first and the unread count
 * after (CONTRACT: the link's name starts with the mailbox's name). Messages dragged from
 * the list (message_row.tsx) are moved into the mailbox they are dropped on.
 */
/// <reference lib="dom" />
import type { ComponentChildren } from "preact";
import type { Mailbox } from "./jmap.ts";
import { href } from "./route.ts";
import { DRAG_TYPE } from "./message_row.tsx";

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

function draggedIds(e: DragEvent): string[] {
  try {
    const v = JSON.parse(e.dataTransfer?.getData(DRAG_TYPE) || "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch {
    return [];
  }
}

export function MailboxNav(
  props: {
    mailboxes: Mailbox[];
    current: string | null;
    onPick: () => void;
    onDropEmails: (mailboxId: string, ids: string[]) => void;
    children?: ComponentChildren;
  },
) {
  const over = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
  };
  return (
    <nav class="mailboxes" aria-label="Mailboxes">
      <ul>
        {props.mailboxes.map((m) => (
          <li key={m.id}>
            <a
              href={href(m.id)}
              onClick={props.onPick}
              onDragOver={over}
              onDrop={(e) => {
                const ids = draggedIds(e);
                if (!ids.length) return;
                e.preventDefault();
                props.onDropEmails(m.id, ids);
              }}
              aria-current={m.id === props.current ? "page" : undefined}
            >
              <span class="name">{m.name}</span>
              {m.unreadEmails > 0 && <span class="count">{` ${m.unreadEmails}`}</span>}
            </a>
          </li>
        ))}
      </ul>
      {props.children}
    </nav>
  );
}
