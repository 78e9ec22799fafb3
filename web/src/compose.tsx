/**
 * The compose form (To, Cc, Subject, Message; Send). Sending creates the Email in Drafts
 * From the account's Identity and submits it in one request (jmap.ts send); the server then
 * files it in Sent.
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import type { Jmap, Mailbox } from "./jmap.ts";
import { type Draft, parseAddresses } from "./draft.ts";

export function Compose(
  props: {
    jmap: Jmap;
    mailboxes: Mailbox[];
    draft: Draft;
    onDone: (sent: boolean) => void;
  },
) {
  const [d, setD] = useState(props.draft);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = (k: keyof Draft) => (e: Event) =>
    setD({ ...d, [k]: (e.target as HTMLInputElement).value });

  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const to = parseAddresses(d.to);
      const cc = parseAddresses(d.cc);
      if (to.length + cc.length === 0) throw new Error("add at least one recipient");
      const drafts = props.mailboxes.find((m) => m.role === "drafts");
      const sent = props.mailboxes.find((m) => m.role === "sent");
      if (!drafts || !sent) throw new Error("the Drafts or Sent mailbox is missing");
      const identity = await props.jmap.identity();
      await props.jmap.send(
        {
          from: [{ name: identity.name || null, email: identity.email }],
          to,
          ...(cc.length ? { cc } : {}),
          subject: d.subject,
          ...(d.inReplyTo ? { inReplyTo: d.inReplyTo } : {}),
          ...(d.references ? { references: d.references } : {}),
          textBody: [{ partId: "1", type: "text/plain" }],
          bodyValues: { "1": { value: d.body } },
        },
        identity.id,
        drafts.id,
        sent.id,
      );
      props.onDone(true);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <form class="reader compose" aria-label="New message" onSubmit={send}>
      <h2>New message</h2>
      {error && <p role="alert" class="error">{error}</p>}
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
      <label>
        Message
        <textarea rows={16} value={d.body} onInput={field("body")} />
      </label>
      <div class="actions">
        <button type="submit" disabled={busy}>Send</button>
        <button type="button" onClick={() => props.onDone(false)}>Discard</button>
      </div>
    </form>
  );
}
