/**
 * The compose form (From, To, Cc, Subject, Message, Attach files; Send, Discard). The
 * message is written as plain text, or with "Rich text" in the HTML editor. Attachments are
 * picked or dropped onto the form and uploaded at once (attach_picker.tsx). While writing,
 * the draft is saved into Drafts a moment after the last change (drafts_api.ts); Send
 * submits it (jmap.ts send: created in Drafts, submitted, filed in Sent by the server) and
 * destroys the saved copy; Discard destroys it too.
 */
/// <reference lib="dom" />
import { useEffect, useRef, useState } from "preact/hooks";
import type { Identity, Jmap, Mailbox } from "./jmap.ts";
import type { Draft } from "./draft.ts";
import { emailObject } from "./compose_email.ts";
import { addFiles, type Attachment, AttachPicker } from "./attach_picker.tsx";
import { HtmlEditor } from "./html_editor.tsx";
import { destroyEmails, saveDraft } from "./drafts_api.ts";
import { htmlToText } from "./outgoing_html.ts";

/** How long after the last change a draft is saved. */
const SAVE_AFTER_MS = 1500;

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function Compose(
  props: {
    jmap: Jmap;
    mailboxes: Mailbox[];
    draft: Draft;
    onDone: (sent: boolean) => void;
  },
) {
  const { jmap } = props;
  const [d, setD] = useState(props.draft);
  const [ids, setIds] = useState<Identity[]>([]);
  const [fromId, setFromId] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState("");
  const dirty = useRef(false);
  const saved = useRef<string | null>(props.draft.savedId);
  const saving = useRef<Promise<unknown>>(Promise.resolve());
  const drafts = props.mailboxes.find((m) => m.role === "drafts");
  const sentBox = props.mailboxes.find((m) => m.role === "sent");

  // Send may be pressed before the identities arrive: it waits for this same request.
  const loading = useRef<Promise<Identity[]> | null>(null);
  useEffect(() => {
    loading.current = jmap.identities();
    loading.current.then((list) => {
      setIds(list);
      setFromId(list[0].id);
    }).catch((e) => setError((e as Error).message));
  }, [jmap]);
  const from = ids.find((i) => i.id === fromId) ?? ids[0];

  const change = (next: Partial<Draft>) => {
    dirty.current = true;
    setD((cur) => ({ ...cur, ...next }));
  };
  const field = (k: keyof Draft) => (e: Event) =>
    change({ [k]: (e.target as HTMLInputElement).value });
  const updateAttachments = (f: (l: Attachment[]) => Attachment[]) => {
    dirty.current = true;
    setD((cur) => ({ ...cur, attachments: f(cur.attachments) }));
  };

  // Autosave: debounced; saves run one after another so each replaces the one before.
  useEffect(() => {
    if (!dirty.current || !drafts || !from || busy) return;
    const timer = setTimeout(() => {
      let obj: Record<string, unknown>;
      try {
        obj = emailObject(d, from, false);
      } catch {
        return; // an address still being typed: save on a later change
      }
      dirty.current = false;
      saving.current = saving.current.then(() =>
        saveDraft(jmap, obj, drafts.id, saved.current).then((id) => {
          saved.current = id;
          setStatus(`Draft saved at ${new Date().toLocaleTimeString()}`);
        }, (e) => setStatus((e as Error).message))
      );
    }, SAVE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [d, from, busy]);

  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (!drafts || !sentBox) throw new Error("the Drafts or Sent mailbox is missing");
      const sender = from ?? (await loading.current)?.[0];
      if (!sender) throw new Error("this account has no identity to send from");
      const obj = emailObject(d, sender, true);
      await saving.current;
      await jmap.send(obj, sender.id, { drafts: drafts.id, sent: sentBox.id }, saved.current);
      props.onDone(true);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  const discard = async () => {
    setBusy(true);
    await saving.current;
    await destroyEmails(jmap, saved.current ? [saved.current] : []).catch(() => {});
    props.onDone(saved.current !== null);
  };
  const toggleRich = () =>
    change(
      d.html === null
        ? { html: escapeHtml(d.body).replace(/\n/g, "<br>") }
        : { html: null, body: htmlToText(d.html) },
    );
  const drop = (e: DragEvent) => {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    addFiles(jmap, [...e.dataTransfer.files], d.attachments, updateAttachments);
  };

  return (
    <form
      class="reader compose"
      aria-label="New message"
      onSubmit={send}
      onDragOver={(e) => e.dataTransfer?.types.includes("Files") && e.preventDefault()}
      onDrop={drop}
    >
      <h2>New message</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {ids.length > 1 && (
        <label>
          From
          <select value={fromId} onChange={(e) => setFromId((e.target as HTMLSelectElement).value)}>
            {ids.map((i) => (
              <option key={i.id} value={i.id}>{i.name ? `${i.name} <${i.email}>` : i.email}</option>
            ))}
          </select>
        </label>
      )}
      <label>
        To
        <input type="text" value={d.to} onInput={field("to")} autoFocus />
      </label>
      <label>
        Cc
        <input type="text" value={d.cc} onInput={field("cc")} />
      </label>
      <label>
        Subject
        <input type="text" value={d.subject} onInput={field("subject")} />
      </label>
      <label class="inline">
        <input type="checkbox" checked={d.html !== null} onChange={toggleRich} /> Rich text
      </label>
      {d.html === null
        ? (
          <label>
            Message
            <textarea rows={16} value={d.body} onInput={field("body")} />
          </label>
        )
        : <HtmlEditor initial={d.html} onChange={(html) => change({ html })} />}
      <AttachPicker jmap={jmap} list={d.attachments} update={updateAttachments} />
      <div class="actions">
        <button type="submit" disabled={busy}>Send</button>
        <button type="button" disabled={busy} onClick={discard}>Discard</button>
        <span class="hint" role="status">{status}</span>
      </div>
    </form>
  );
}
