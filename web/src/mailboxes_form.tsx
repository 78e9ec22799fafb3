/**
 * Settings: "Mailboxes" — create, rename and delete the user's own mailboxes (Mailbox/set,
 * RFC 8621 §2.5). Special mailboxes (with a role) are kept. Deleting asks first, inline,
 * and says how many messages go with it (onDestroyRemoveEmails).
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import type { Jmap, Mailbox } from "./jmap.ts";

async function mailboxSet(jmap: Jmap, args: Record<string, unknown>): Promise<void> {
  const [[, res]] = await jmap.call([["Mailbox/set", { accountId: jmap.accountId, ...args }, "m"]]);
  for (const k of ["notCreated", "notUpdated", "notDestroyed"]) {
    const failed = res[k] as Record<string, { type: string; description?: string }> | null;
    const first = failed && Object.values(failed)[0];
    if (first) throw new Error(first.description ?? first.type);
  }
}

export function MailboxesForm(
  props: { jmap: Jmap; mailboxes: Mailbox[]; onChanged: () => void },
) {
  const { jmap } = props;
  const [name, setName] = useState("");
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (args: Record<string, unknown>, after: () => void) => {
    setError(null);
    mailboxSet(jmap, args).then(() => {
      after();
      props.onChanged();
    }, (e) => setError((e as Error).message));
  };
  const own = props.mailboxes.filter((m) => !m.role);
  return (
    <section class="setting" aria-labelledby="mb-title">
      <h3 id="mb-title">Mailboxes</h3>
      <form
        class="inline-form"
        aria-label="New mailbox"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) {
            run({ create: { n: { name: name.trim(), parentId: null } } }, () => setName(""));
          }
        }}
      >
        <label>
          New mailbox
          <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Create mailbox</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <ul class="mailbox-admin" aria-label="Your mailboxes">
        {own.map((m) => (
          <li key={m.id}>
            {renaming?.id === m.id
              ? (
                <form
                  class="inline-form"
                  aria-label={`Rename ${m.name}`}
                  onSubmit={(e) => {
                    e.preventDefault();
                    run(
                      { update: { [m.id]: { name: renaming.name.trim() } } },
                      () => setRenaming(null),
                    );
                  }}
                >
                  <label>
                    New name
                    <input
                      value={renaming.name}
                      autoFocus
                      onInput={(e) =>
                        setRenaming({ id: m.id, name: (e.target as HTMLInputElement).value })}
                    />
                  </label>
                  <button type="submit">Save name</button>
                  <button type="button" onClick={() => setRenaming(null)}>Cancel</button>
                </form>
              )
              : confirm === m.id
              ? (
                <span role="group" aria-label={`Delete ${m.name}?`}>
                  {`Delete ${m.name}${m.totalEmails ? ` and its ${m.totalEmails} messages` : ""}? `}
                  <button
                    type="button"
                    onClick={() =>
                      run({ destroy: [m.id], onDestroyRemoveEmails: true }, () => setConfirm(null))}
                  >
                    Yes, delete
                  </button>
                  <button
                    type="button"
                    onClick={() => setConfirm(null)}
                  >
                    Cancel
                  </button>
                </span>
              )
              : (
                <>
                  <span class="name">{m.name}</span>
                  <button
                    type="button"
                    aria-label={`Rename ${m.name}`}
                    onClick={() => setRenaming({ id: m.id, name: m.name })}
                  >
                    Rename
                  </button>
                  <button
                    type="button"
                    aria-label={`Delete ${m.name}`}
                    onClick={() => setConfirm(m.id)}
                  >
                    Delete
                  </button>
                </>
              )}
          </li>
        ))}
      </ul>
    </section>
  );
}
