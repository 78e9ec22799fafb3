/**
 * A small "Add ..." form behind a button: shows the fields, POSTs them through `submit`,
 * and shows the API's message with role=alert when it refuses.
 *
 * @module
 */
/// <reference lib="dom" />
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

export function AddForm(props: {
  label: string;
  /** Called with the form's fields; throws an Error whose message is shown. */
  submit: (data: FormData) => Promise<void>;
  children: ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return <button type="button" onClick={() => setOpen(true)}>{props.label}</button>;
  }
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(null);
    try {
      await props.submit(new FormData(form));
      form.reset();
      setOpen(false);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="add-form" onSubmit={onSubmit} aria-label={props.label}>
      {props.children}
      {error && <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  );
}
