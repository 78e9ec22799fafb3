/**
 * The open message's actions. Shortcut keys (keyboard.ts) are announced with
 * aria-keyshortcuts: r Reply, a Reply all, f Forward, # Delete.
 */
import type { EmailFull } from "./jmap.ts";
import type { MoveAction } from "./actions.ts";
import type { ComposeKind } from "./draft.ts";

export interface MessageActions {
  onMove: (action: MoveAction) => void;
  onCompose: (kind: ComposeKind, email: EmailFull) => void;
  onKeyword: (keyword: string, on: boolean) => void;
  onEditDraft: (email: EmailFull) => void;
}

export function MessageToolbar(
  props: MessageActions & { email: EmailFull; inJunk: boolean; inDrafts: boolean },
) {
  const { email } = props;
  const flagged = !!email.keywords?.$flagged;
  const b = (label: string, onClick: () => void, keys?: string) => (
    <button type="button" onClick={onClick} aria-keyshortcuts={keys}>{label}</button>
  );
  return (
    <div class="toolbar" role="toolbar" aria-label="Message actions">
      {props.inDrafts && b("Edit draft", () => props.onEditDraft(email))}
      {b("Reply", () => props.onCompose("reply", email), "r")}
      {b("Reply all", () => props.onCompose("replyAll", email), "a")}
      {b("Forward", () => props.onCompose("forward", email), "f")}
      {b("Send as attachment", () => props.onCompose("forwardAttached", email))}
      {b("Delete", () => props.onMove("delete"), "#")}
      {b("Archive", () => props.onMove("archive"), "e")}
      {props.inJunk
        ? b("Not junk", () => props.onMove("notjunk"))
        : b("Mark as junk", () => props.onMove("junk"))}
      <button
        type="button"
        aria-pressed={flagged ? "true" : "false"}
        onClick={() => props.onKeyword("$flagged", !flagged)}
      >
        Flag
      </button>
      {b("Mark as unread", () => props.onKeyword("$seen", false), "u")}
    </div>
  );
}
