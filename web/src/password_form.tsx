/** Settings: "Change password" (POST /webmail/password; the current one is checked). */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { settingsCall } from "./settings_api.ts";

export function PasswordForm(props: { jmap: Jmap }) {
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setNote(null);
    try {
      await settingsCall(props.jmap, "POST", "/webmail/password", {
        current: String(data.get("current")),
        new: String(data.get("new")),
      });
      form.reset();
      setNote({ ok: true, text: "Password changed. Use the new one in your mail programs too." });
    } catch (err) {
      setNote({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <form class="setting" aria-labelledby="pw-title" onSubmit={submit}>
      <h3 id="pw-title">Change password</h3>
      <label>
        Current password
        <input name="current" type="password" autocomplete="current-password" required />
      </label>
      <label>
        New password
        <input name="new" type="password" autocomplete="new-password" minLength={8} required />
      </label>
      {note && <p role={note.ok ? "status" : "alert"} class={note.ok ? "" : "error"}>{note.text}
      </p>}
      <button type="submit">Change password</button>
    </form>
  );
}
