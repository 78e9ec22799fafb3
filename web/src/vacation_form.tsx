/** Settings: "Vacation reply" (RFC 8621 §8 VacationResponse, the account's singleton). */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";

const VACATION = "urn:ietf:params:jmap:vacationresponse";

interface Vacation {
  isEnabled: boolean;
  subject: string | null;
  textBody: string | null;
  fromDate: string | null;
  toDate: string | null;
}

/** "2026-12-24" (a date input) -> UTC date-time at the day's start or end, or null. */
const toUtc = (d: string, end = false) => (d ? `${d}T${end ? "23:59:59" : "00:00:00"}Z` : null);

export function VacationForm(props: { jmap: Jmap }) {
  const { jmap } = props;
  const [v, setV] = useState<Vacation | null>(null);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    jmap.call([["VacationResponse/get", { accountId: jmap.accountId, ids: ["singleton"] }, "v"]], [
      VACATION,
    ]).then(([[, got]]) => setV((got.list as Vacation[])[0]))
      .catch((e) => setNote({ ok: false, text: (e as Error).message }));
  }, [jmap]);
  if (!v) return <section aria-busy="true" />;
  const set = (k: keyof Vacation) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setV({ ...v, [k]: t.type === "checkbox" ? t.checked : t.value });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setNote(null);
    try {
      const patch = {
        isEnabled: v.isEnabled,
        subject: v.subject || null,
        textBody: v.textBody || null,
        fromDate: v.fromDate ? toUtc(v.fromDate.slice(0, 10)) : null,
        toDate: v.toDate ? toUtc(v.toDate.slice(0, 10), true) : null,
      };
      const [[, res]] = await jmap.call([["VacationResponse/set", {
        accountId: jmap.accountId,
        update: { singleton: patch },
      }, "s"]], [VACATION]);
      const failed = (res.notUpdated as Record<string, { description?: string }> | null)
        ?.singleton;
      if (failed) throw new Error(failed.description ?? "not saved");
      setNote({ ok: true, text: "Vacation reply saved." });
    } catch (err) {
      setNote({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <form class="setting" aria-labelledby="vac-title" onSubmit={save}>
      <h3 id="vac-title">Vacation reply</h3>
      <label class="inline">
        <input type="checkbox" checked={v.isEnabled} onChange={set("isEnabled")} />{" "}
        Send a vacation reply
      </label>
      <label>
        First day
        <input type="date" value={v.fromDate?.slice(0, 10) ?? ""} onInput={set("fromDate")} />
      </label>
      <label>
        Last day
        <input type="date" value={v.toDate?.slice(0, 10) ?? ""} onInput={set("toDate")} />
      </label>
      <label>
        Reply subject
        <input type="text" value={v.subject ?? ""} onInput={set("subject")} />
      </label>
      <label>
        Reply text
        <textarea rows={5} value={v.textBody ?? ""} onInput={set("textBody")} />
      </label>
      {note && <p role={note.ok ? "status" : "alert"} class={note.ok ? "" : "error"}>{note.text}
      </p>}
      <button type="submit">Save vacation reply</button>
    </form>
  );
}
