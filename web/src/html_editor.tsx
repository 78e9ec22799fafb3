/**
 * A simple rich-text editor: a contenteditable region (role textbox, named "Message" like
 * the plain one) with Bold, Italic, Link and Bulleted list. The browser's editing commands
 * do the work; what leaves is sanitised again before sending (outgoing_html.ts). Pasted
 * content is taken as plain text, so no foreign markup enters the editor at all.
 */
/// <reference lib="dom" />
import { useEffect, useRef, useState } from "preact/hooks";
import { cleanOutgoing } from "./outgoing_html.ts";

const COMMANDS: Array<[label: string, command: string, keys: string]> = [
  ["Bold", "bold", "Control+B"],
  ["Italic", "italic", "Control+I"],
  ["Bulleted list", "insertUnorderedList", ""],
];

export function HtmlEditor(props: { initial: string; onChange: (html: string) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Set once: the editor owns its DOM from here on (a re-render must not reset the caret).
    // Sanitised first: a saved draft's HTML comes from the mailbox, which mail programs and
    // filters can also write to, and it must not become markup of this page unchecked.
    if (ref.current) ref.current.innerHTML = cleanOutgoing(props.initial);
  }, []);
  const report = () => ref.current && props.onChange(ref.current.innerHTML);
  const run = (command: string, value?: string) => {
    ref.current?.focus();
    document.execCommand(command, false, value);
    report();
  };
  // Link: the selection is kept while the address is typed into a field (no prompt dialog).
  const [linking, setLinking] = useState(false);
  const [address, setAddress] = useState("https://");
  const saved = useRef<Range | null>(null);
  const startLink = () => {
    const sel = getSelection();
    saved.current = sel && sel.rangeCount ? sel.getRangeAt(0).cloneRange() : null;
    setLinking(true);
  };
  const addLink = () => {
    const url = address.trim();
    setLinking(false);
    if (!/^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i.test(url)) return;
    ref.current?.focus();
    const sel = getSelection();
    if (saved.current && sel) {
      sel.removeAllRanges();
      sel.addRange(saved.current);
    }
    run("createLink", url);
  };
  const paste = (e: ClipboardEvent) => {
    e.preventDefault();
    document.execCommand("insertText", false, e.clipboardData?.getData("text/plain") ?? "");
  };
  return (
    <div class="editor">
      <div role="toolbar" aria-label="Formatting" class="toolbar">
        {COMMANDS.map(([label, command, keys]) => (
          <button
            type="button"
            key={command}
            aria-keyshortcuts={keys || undefined}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => run(command)}
          >
            {label}
          </button>
        ))}
        <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={startLink}>
          Link
        </button>
        {linking && (
          <span class="link-form">
            <label>
              Link address{" "}
              <input
                type="url"
                value={address}
                autoFocus
                onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    addLink();
                  } else if (e.key === "Escape") setLinking(false);
                }}
              />
            </label>
            <button type="button" onClick={addLink}>Add link</button>
          </span>
        )}
      </div>
      <div
        ref={ref}
        class="editable"
        contentEditable
        role="textbox"
        aria-multiline="true"
        aria-label="Message"
        onInput={report}
        onPaste={paste}
      />
    </div>
  );
}
