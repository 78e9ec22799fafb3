/**
 * The compose form's attachments: a file input labelled "Attach files" and the files dropped
 * onto the form (compose.tsx passes them in). Each file is uploaded at once through JMAP
 * upload (RFC 8620 §6.1); Send only refers to the blobIds. Files over the server's
 * maxSizeUpload, or that would make the attachments together larger than it, are refused
 * here with a message instead of failing at Send.
 */
/// <reference lib="dom" />
import type { Jmap } from "./jmap.ts";
import { byteSize } from "./format.ts";

export interface Attachment {
  key: string;
  name: string;
  type: string;
  size: number;
  /** Set once uploaded. */
  blobId: string | null;
  error: string | null;
  /** "message/rfc822" forwards and inline parts keep their own disposition. */
  disposition?: string;
}

let counter = 0;

/**
 * Uploads `files`, reporting each one's progress through `update` (called with a function
 * of the current list, so concurrent uploads do not overwrite each other).
 */
export function addFiles(
  jmap: Jmap,
  files: File[],
  current: Attachment[],
  update: (f: (list: Attachment[]) => Attachment[]) => void,
): void {
  let total = current.reduce((n, a) => n + (a.error ? 0 : a.size), 0);
  for (const file of files) {
    const key = `a${++counter}`;
    const limit = jmap.maxUpload;
    const tooBig = limit > 0 && total + file.size > limit;
    const a: Attachment = {
      key,
      name: file.name,
      type: file.type || "application/octet-stream",
      size: file.size,
      blobId: null,
      error: tooBig ? `too large: attachments may be ${byteSize(limit)} in all` : null,
    };
    if (!tooBig) total += file.size;
    update((list) => [...list, a]);
    if (tooBig) continue;
    jmap.upload(file).then(
      (up) => update((list) => list.map((x) => (x.key === key ? { ...x, blobId: up.blobId } : x))),
      (e) =>
        update((list) =>
          list.map((x) => (x.key === key ? { ...x, error: (e as Error).message } : x))
        ),
    );
  }
}

export function AttachPicker(
  props: {
    jmap: Jmap;
    list: Attachment[];
    update: (f: (list: Attachment[]) => Attachment[]) => void;
  },
) {
  const { jmap, list, update } = props;
  const onPick = (e: Event) => {
    const input = e.target as HTMLInputElement;
    addFiles(jmap, [...(input.files ?? [])], list, update);
    input.value = "";
  };
  return (
    <div class="attachments">
      <label class="attach">
        Attach files
        <input type="file" multiple onChange={onPick} />
      </label>
      <span class="hint">
        {jmap.maxUpload ? `or drop them here, up to ${byteSize(jmap.maxUpload)} in all` : ""}
      </span>
      {list.length > 0 && (
        <ul aria-label="Attachments">
          {list.map((a) => (
            <li key={a.key} class={a.error ? "error" : ""}>
              <span>{a.name}</span> <span class="hint">{byteSize(a.size)}</span>{" "}
              {a.error ? <span role="alert">{a.error}</span> : !a.blobId && <span>uploading…</span>}
              <button
                type="button"
                aria-label={`Remove ${a.name}`}
                onClick={() => update((l) => l.filter((x) => x.key !== a.key))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
