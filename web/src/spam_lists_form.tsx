/**
 * Settings: "Spam filter" — the user's own allow and block lists (GET/PUT
 * /webmail/spam-lists, checked and stored by builtin:spam). One address or domain a line.
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { settingsCall } from "./settings_api.ts";

const lines = (s: string) => s.split("\n").map((l) => l.trim()).filter((l) => l !== "");

export function SpamListsForm(props: { jmap: Jmap }) {
  const { jmap } = props;
  const [lists, setLists] = useState<{ allow: string; block: string } | null>(null);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const show = (l: Record<string, unknown> | null) =>
    setLists({
      allow: ((l?.allow ?? []) as string[]).join("\n"),
      block: ((l?.block ?? []) as string[]).join("\n"),
    });
  useEffect(() => {
    settingsCall(jmap, "GET", "/webmail/spam-lists").then(show)
      .catch((e) => setNote({ ok: false, text: (e as Error).message }));
  }, [jmap]);
  if (!lists) return <section aria-busy="true" />;
  const save = async (e: Event) => {
    e.preventDefault();
    setNote(null);
    try {
      show(
        await settingsCall(jmap, "PUT", "/webmail/spam-lists", {
          allow: lines(lists.allow),
          block: lines(lists.block),
        }),
      );
      setNote({ ok: true, text: "Spam lists saved." });
    } catch (err) {
      setNote({ ok: false, text: (err as Error).message });
    }
  };
  const edit = (k: "allow" | "block") => (e: Event) =>
    setLists({ ...lists, [k]: (e.target as HTMLTextAreaElement).value });
  return (
    <form class="setting" aria-labelledby="spam-title" onSubmit={save}>
      <h3 id="spam-title">Spam filter</h3>
      <p class="hint">
        One address (boss@example.com) or domain (example.com, subdomains too) a line. Mail from a
        blocked sender is refused; mail from an allowed one skips the spam filter when its sender is
        authenticated.
      </p>
      <label>
        Always allow
        <textarea rows={4} value={lists.allow} onInput={edit("allow")} />
      </label>
      <label>
        Always block
        <textarea rows={4} value={lists.block} onInput={edit("block")} />
      </label>
      {note && <p role={note.ok ? "status" : "alert"} class={note.ok ? "" : "error"}>{note.text}
      </p>}
      <button type="submit">Save spam lists</button>
    </form>
  );
}
