/**
 * The open message's attachments, each a "Download" link. The download goes through JMAP
 * download with the bearer token (so it cannot be a plain link); the bytes are then saved
 * as application/octet-stream through a temporary blob: URL with the `download` attribute,
 * never opened as a page of this origin. The server's download route also answers with
 * `Content-Disposition: attachment` and `CSP: sandbox` (protocols/http/jmap/blob.ts).
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import type { BodyPart, Jmap } from "./jmap.ts";
import { byteSize } from "./format.ts";

export async function saveBlob(jmap: Jmap, part: BodyPart): Promise<void> {
  const name = part.name || "attachment";
  const blob = await jmap.download(part.blobId!, name, "application/octet-stream");
  const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function AttachmentList(props: { jmap: Jmap; parts: BodyPart[] }) {
  const [error, setError] = useState<string | null>(null);
  if (!props.parts.length) return null;
  return (
    <div class="attached">
      <ul aria-label="Attachments">
        {props.parts.map((p) => (
          <li key={p.partId}>
            <a
              href="#"
              aria-label={`Download ${p.name || "attachment"}`}
              onClick={(e) => {
                e.preventDefault();
                setError(null);
                saveBlob(props.jmap, p).catch((err) => setError((err as Error).message));
              }}
            >
              {p.name || "attachment"}
            </a>{" "}
            <span class="hint">{`${p.type}, ${byteSize(p.size ?? 0)}`}</span>
          </li>
        ))}
      </ul>
      {error && <p role="alert" class="error">{error}</p>}
    </div>
  );
}
