/**
 * Settings: "Encryption key" — the OpenPGP public key builtin:encrypt encrypts this user's
 * mail with at rest (the same check and storage as `user key set`, via /webmail/key). The
 * key is read from a chosen .asc file or pasted; the stored key's fingerprint is shown.
 */
/// <reference lib="dom" />
import { useEffect, useRef, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { settingsCall } from "./settings_api.ts";

interface KeyInfo {
  fingerprint: string;
  userIds: string[];
  created: string;
  expires: string | null;
}

export function KeyForm(props: { jmap: Jmap }) {
  const { jmap } = props;
  const [info, setInfo] = useState<KeyInfo | null>(null);
  const [armored, setArmored] = useState("");
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  // The first GET must not overwrite what a quicker Save or Remove already showed.
  const changed = useRef(false);
  useEffect(() => {
    settingsCall(jmap, "GET", "/webmail/key").then((k) =>
      !changed.current && setInfo(k as KeyInfo | null)
    ).catch((e) => setNote({ ok: false, text: (e as Error).message }));
  }, [jmap]);
  const pick = async (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) setArmored(await f.text());
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setNote(null);
    changed.current = true;
    try {
      setInfo(await settingsCall(jmap, "POST", "/webmail/key", { armored }) as KeyInfo | null);
      setArmored("");
      setNote({ ok: true, text: "Key saved: new mail will be encrypted with it." });
    } catch (err) {
      setNote({ ok: false, text: (err as Error).message });
    }
  };
  const remove = async () => {
    changed.current = true;
    await settingsCall(jmap, "DELETE", "/webmail/key").catch(() => {});
    setInfo(null);
    setNote({ ok: true, text: "Key removed: new mail is stored unencrypted." });
  };
  return (
    <form class="setting" aria-labelledby="key-title" onSubmit={save}>
      <h3 id="key-title">Encryption key</h3>
      {info
        ? (
          <dl class="headers">
            <dt>Fingerprint</dt>
            <dd class="fingerprint">{info.fingerprint}</dd>
            <dt>User ids</dt>
            <dd>{info.userIds.join(", ")}</dd>
            <dt>Expires</dt>
            <dd>{info.expires ? new Date(info.expires).toLocaleDateString() : "never"}</dd>
          </dl>
        )
        : <p class="hint">No key: your mail is stored unencrypted.</p>}
      <label>
        Public key file
        <input type="file" accept=".asc,.pgp,.gpg,application/pgp-keys" onChange={pick} />
      </label>
      <label>
        Public key (ASCII armored)
        <textarea
          rows={4}
          value={armored}
          onInput={(e) => setArmored((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      {note && <p role={note.ok ? "status" : "alert"} class={note.ok ? "" : "error"}>{note.text}
      </p>}
      <div class="actions">
        <button type="submit" disabled={!armored.trim()}>Save key</button>
        {info && <button type="button" onClick={remove}>Remove key</button>}
      </div>
    </form>
  );
}
