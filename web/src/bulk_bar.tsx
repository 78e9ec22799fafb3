/**
 * Actions on the selected messages of the list (several at once, one Email/set). Their
 * names say "selected" so that they are not confused with the open message's buttons.
 * "Move selected to" is the keyboard's way to do what dragging onto a mailbox does.
 */
import type { MoveAction } from "./actions.ts";
import type { Mailbox } from "./jmap.ts";

export interface BulkActions {
  onBulkMove: (action: MoveAction) => void;
  onBulkKeyword: (keyword: string, on: boolean) => void;
  onBulkMoveTo: (mailboxId: string) => void;
  onClear: () => void;
}

export function BulkBar(
  props: BulkActions & { count: number; inJunk: boolean; mailboxes: Mailbox[]; current: string },
) {
  const b = (label: string, onClick: () => void) => (
    <button type="button" onClick={onClick}>{label}</button>
  );
  return (
    <div class="toolbar bulk" role="toolbar" aria-label="Selected messages">
      <span>{`${props.count} selected`}</span>
      {b("Delete selected", () => props.onBulkMove("delete"))}
      {b("Archive selected", () => props.onBulkMove("archive"))}
      {props.inJunk
        ? b("Selected not junk", () => props.onBulkMove("notjunk"))
        : b("Selected are junk", () => props.onBulkMove("junk"))}
      {b("Mark selected as read", () => props.onBulkKeyword("$seen", true))}
      {b("Mark selected as unread", () => props.onBulkKeyword("$seen", false))}
      {b("Flag selected", () => props.onBulkKeyword("$flagged", true))}
      {b("Unflag selected", () => props.onBulkKeyword("$flagged", false))}
      <select
        aria-label="Move selected to"
        value=""
        onChange={(e) => {
          const id = (e.target as HTMLSelectElement).value;
          if (id) props.onBulkMoveTo(id);
        }}
      >
        <option value="">Move to…</option>
        {props.mailboxes.filter((m) => m.id !== props.current).map((m) => (
          <option key={m.id} value={m.id}>{m.name}</option>
        ))}
      </select>
      {b("Clear selection", props.onClear)}
    </div>
  );
}
