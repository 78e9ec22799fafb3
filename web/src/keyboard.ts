/**
 * Keyboard shortcuts (as in the common webmails): j / k next / previous message, Enter
 * opens the focused row, r reply, a reply all, f forward, # delete, e archive, u mark
 * unread, / search, c compose, ? this list. Keys typed into a field, or with Ctrl/Alt/Meta,
 * are left alone. The list is shown by the "Keyboard shortcuts" button (shortcuts_help.tsx).
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS: Array<[key: string, what: string]> = [
  ["j / k", "next / previous message"],
  ["Enter", "open the message in focus"],
  ["r", "reply"],
  ["a", "reply all"],
  ["f", "forward"],
  ["#", "delete"],
  ["e", "archive"],
  ["u", "mark as unread"],
  ["/", "search"],
  ["c", "compose"],
  ["?", "show these shortcuts"],
];

export type ShortcutHandler = (key: string) => boolean;

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

/**
 * Calls `handle(key)` for shortcut keys; a true answer means handled (default prevented).
 * The listener is added once and calls the handler of the latest render (a ref), so a key
 * pressed right after a change never reaches a handler that still sees the old state.
 */
export function useShortcuts(handle: ShortcutHandler): void {
  const latest = useRef(handle);
  latest.current = handle;
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) return;
      if (e.key.length === 1 && latest.current(e.key)) e.preventDefault();
    };
    addEventListener("keydown", on);
    return () => removeEventListener("keydown", on);
  }, []);
}
