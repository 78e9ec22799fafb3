/** The "Keyboard shortcuts" dialog (a native <dialog>, so Escape and focus work as usual). */
/// <reference lib="dom" />
import { useEffect, useRef } from "preact/hooks";
import { SHORTCUTS } from "./keyboard.ts";

export function ShortcutsHelp(props: { open: boolean; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="shortcuts" aria-labelledby="shortcuts-title" onClose={props.onClose}>
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <dl>
        {SHORTCUTS.map(([k, what]) => [
          <dt key={`k${k}`}>
            <kbd>{k}</kbd>
          </dt>,
          <dd key={k}>{what}</dd>,
        ])}
      </dl>
      <button type="button" onClick={props.onClose}>Close</button>
    </dialog>
  );
}
