/**
 * One open message: its subject as a heading, the addresses, and the body in a sandboxed
 * iframe titled "Message body" (sanitize.ts says what is removed and why). Remote images
 * stay blocked until "Show remote images" is pressed, for this message only. The toolbar's
 * buttons (Reply, Reply all, Forward, Delete, Archive, Mark as junk / Not junk) are handled
 * by the app shell; opening an unread message marks it read.
 */
/// <reference lib="dom" />
import { useEffect, useMemo, useState } from "preact/hooks";
import type { EmailFull, Jmap } from "./jmap.ts";
import { fullAddresses } from "./format.ts";
import { renderHtml, renderText } from "./sanitize.ts";
import { markSeen, type MoveAction } from "./actions.ts";
import type { ComposeKind } from "./draft.ts";

function bodyOf(email: EmailFull, allowRemote: boolean) {
  const html = email.htmlBody?.find((p) => p.type === "text/html");
  if (html && email.bodyValues[html.partId]) {
    return renderHtml(email.bodyValues[html.partId].value, allowRemote);
  }
  const text = (email.textBody ?? []).map((p) => email.bodyValues[p.partId]?.value ?? "")
    .join("\n");
  return renderText(text);
}

export function MessageView(
  props: {
    jmap: Jmap;
    emailId: string;
    inJunk: boolean;
    onMove: (action: MoveAction) => void;
    onCompose: (kind: ComposeKind, email: EmailFull) => void;
    onSeen: () => void;
  },
) {
  const [email, setEmail] = useState<EmailFull | null>(null);
  const [missing, setMissing] = useState(false);
  const [allowRemote, setAllowRemote] = useState(false);

  useEffect(() => {
    let live = true;
    props.jmap.email(props.emailId).then((e) => {
      if (!live) return;
      if (!e) return setMissing(true);
      setEmail(e);
      if (!e.keywords?.$seen) markSeen(props.jmap, e.id).then(() => live && props.onSeen());
    }).catch(() => live && setMissing(true));
    return () => {
      live = false;
    };
  }, [props.jmap, props.emailId]);

  const body = useMemo(() => email && bodyOf(email, allowRemote), [email, allowRemote]);

  if (missing) {
    return (
      <section class="reader">
        <p role="alert">This message is gone.</p>
      </section>
    );
  }
  if (!email || !body) return <section class="reader" aria-busy="true" />;
  return (
    <article class="reader" aria-labelledby="message-subject">
      <div class="toolbar" role="toolbar" aria-label="Message actions">
        <button type="button" onClick={() => props.onCompose("reply", email)}>Reply</button>
        <button type="button" onClick={() => props.onCompose("replyAll", email)}>
          Reply all
        </button>
        <button type="button" onClick={() => props.onCompose("forward", email)}>Forward</button>
        <button type="button" onClick={() => props.onMove("delete")}>Delete</button>
        <button type="button" onClick={() => props.onMove("archive")}>Archive</button>
        {props.inJunk
          ? <button type="button" onClick={() => props.onMove("notjunk")}>Not junk</button>
          : <button type="button" onClick={() => props.onMove("junk")}>Mark as junk</button>}
      </div>
      <h2 id="message-subject">{email.subject || "(no subject)"}</h2>
      <dl class="headers">
        <dt>From</dt>
        <dd>{fullAddresses(email.from)}</dd>
        {email.to?.length ? <dt>To</dt> : null}
        {email.to?.length ? <dd>{fullAddresses(email.to)}</dd> : null}
        {email.cc?.length ? <dt>Cc</dt> : null}
        {email.cc?.length ? <dd>{fullAddresses(email.cc)}</dd> : null}
        <dt>Date</dt>
        <dd>
          <time dateTime={email.receivedAt}>{new Date(email.receivedAt).toLocaleString()}</time>
        </dd>
      </dl>
      {body.remote > 0 && !allowRemote && (
        <p class="remote-note">
          Remote images are blocked to protect your privacy.{" "}
          <button type="button" onClick={() => setAllowRemote(true)}>Show remote images</button>
        </p>
      )}
      {/* No allow-scripts, no allow-same-origin: the message is an opaque, inert document. */}
      <iframe
        title="Message body"
        class="body"
        sandbox="allow-popups allow-popups-to-escape-sandbox"
        referrerpolicy="no-referrer"
        srcdoc={body.doc}
      />
    </article>
  );
}
