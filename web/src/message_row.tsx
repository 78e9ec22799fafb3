/**
 * One row of the "Messages" list: a checkbox to select it (for the bulk actions) and a link
 * that opens it, showing sender, subject, date, preview, and marks for unread, flagged and
 * attachments. The row can be dragged onto a mailbox of the navigation (mailbox_nav.tsx);
 * a selected row drags the whole selection.
 */
/// <reference lib="dom" />
import type { EmailSummary } from "./jmap.ts";
import { shortDate, who } from "./format.ts";

/** The drag data type: a JSON array of Email ids. */
export const DRAG_TYPE = "application/x-denomail-emails";

export function MessageRow(
  props: {
    email: EmailSummary;
    link: string;
    open: boolean;
    selected: boolean;
    dragIds: () => string[];
    onSelect: (on: boolean) => void;
  },
) {
  const e = props.email;
  const flagged = !!e.keywords?.$flagged;
  const seen = !!e.keywords?.$seen;
  const start = (ev: DragEvent) => {
    ev.dataTransfer?.setData(DRAG_TYPE, JSON.stringify(props.dragIds()));
    if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
  };
  return (
    <li class={`${seen ? "seen" : "unseen"}${props.selected ? " selected" : ""}`}>
      <input
        type="checkbox"
        class="pick"
        aria-label={`Select ${e.subject || "(no subject)"}`}
        checked={props.selected}
        onChange={(ev) => props.onSelect((ev.target as HTMLInputElement).checked)}
      />
      <a
        href={props.link}
        draggable
        onDragStart={start}
        aria-current={props.open ? "true" : undefined}
        data-id={e.id}
      >
        <span class="from">{who(e.from)}</span>
        <span class="marks">
          {!seen && <span class="dot" title="Unread" aria-label="Unread">●</span>}
          {flagged && <span class="flag" title="Flagged" aria-label="Flagged">⚑</span>}
          {e.hasAttachment && (
            <span class="clip" title="Has attachments" aria-label="Has attachments">
              <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true">
                <path
                  d="M10.5 4.5 5.6 9.4a1.3 1.3 0 0 0 1.8 1.8l5-5a2.6 2.6 0 0 0-3.7-3.7l-5 5a3.9 3.9 0 0 0 5.5 5.5l4.3-4.3"
                  fill="none"
                  stroke="currentColor"
                  stroke-width="1.4"
                  stroke-linecap="round"
                />
              </svg>
            </span>
          )}
        </span>
        <time dateTime={e.receivedAt}>{shortDate(e.receivedAt)}</time>
        <span class="subject">{e.subject || "(no subject)"}</span>
        <span class="preview">{e.preview}</span>
      </a>
    </li>
  );
}
