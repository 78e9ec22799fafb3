/**
 * One open message: its subject as a heading, the addresses, the spam and sender checks
 * (verdict.tsx), the body in a sandboxed iframe titled "Message body" (sanitize.ts says what
 * is removed and why; inline cid: images come from cid.ts), and the attachments to download.
 * Remote images stay blocked until "Show remote images" is pressed, for this message, or
 * for every message of this sender ("Always show images from …", remote_senders.ts).
 * Opening an unread message marks it read.
 */
/// <reference lib="dom" />
import { useEffect, useMemo, useState } from "preact/hooks";
import type { EmailFull, Jmap } from "./jmap.ts";
import { fullAddresses } from "./format.ts";
import { renderHtml, renderText } from "./sanitize.ts";
import { markSeen } from "./actions.ts";
import { loadInline } from "./cid.ts";
import { AttachmentList } from "./attachment_list.tsx";
import { type MessageActions, MessageToolbar } from "./message_toolbar.tsx";
import { VerdictPanel } from "./verdict.tsx";
import { ThreadView } from "./thread_view.tsx";
import { trustSender, trustsSender } from "./remote_senders.ts";

function bodyOf(email: EmailFull, allowRemote: boolean, inline: Map<string, string>) {
  const html = email.htmlBody?.find((p) => p.type === "text/html");
  if (html && email.bodyValues[html.partId]) {
    return renderHtml(email.bodyValues[html.partId].value, allowRemote, inline);
  }
  const text = (email.textBody ?? []).map((p) => email.bodyValues[p.partId]?.value ?? "")
    .join("\n");
  return renderText(text);
}

export function MessageView(
  props: MessageActions & {
    jmap: Jmap;
    emailId: string;
    inJunk: boolean;
    inDrafts: boolean;
    /** The mailbox in the URL (links to the other messages of the thread stay in it). */
    mailboxId: string;
    /** Bumped when the message's keywords changed (flag, unread): fetch again. */
    version: number;
    onSeen: () => void;
    onLoaded: (email: EmailFull) => void;
  },
) {
  const [email, setEmail] = useState<EmailFull | null>(null);
  const [missing, setMissing] = useState(false);
  const [allowRemote, setAllowRemote] = useState(false);
  const [inline, setInline] = useState<Map<string, string>>(new Map());

  useEffect(() => {
    let live = true;
    props.jmap.email(props.emailId).then((e) => {
      if (!live) return;
      if (!e) return setMissing(true);
      const first = email === null;
      setEmail(e);
      props.onLoaded(e);
      // A From address can be forged: mail the spam filter put in Junk never gets the trust.
      if (first && !props.inJunk && trustsSender(e.from?.[0]?.email)) setAllowRemote(true);
      if (first && !e.keywords?.$seen) {
        markSeen(props.jmap, e.id).then(() => live && props.onSeen());
      }
    }).catch(() => live && setMissing(true));
    return () => {
      live = false;
    };
  }, [props.jmap, props.emailId, props.version]);

  // Inline images once per message, in an effect of their own: a keyword change or a push
  // (`version`) re-runs the fetch above, and must not cancel a download still under way.
  const loadedId = email?.id;
  useEffect(() => {
    if (!email) return;
    let live = true;
    loadInline(props.jmap, email).then((m) => live && m.size && setInline(m));
    return () => {
      live = false;
    };
  }, [props.jmap, loadedId]);

  const body = useMemo(() => email && bodyOf(email, allowRemote, inline), [
    email,
    allowRemote,
    inline,
  ]);

  if (missing) {
    return (
      <section class="reader">
        <p role="alert">This message is gone.</p>
      </section>
    );
  }
  if (!email || !body) return <section class="reader" aria-busy="true" />;
  const sender = email.from?.[0]?.email;
  const usedCids = new Set(inline.keys());
  // Inline images the HTML shows are not listed again; all other parts are.
  const files = (email.attachments ?? []).filter((p) => !(p.cid && usedCids.has(p.cid)));
  return (
    <article class="reader" aria-labelledby="message-subject">
      <MessageToolbar {...props} email={email} />
      <h2 id="message-subject">
        {email.keywords?.$flagged && <span class="flag" aria-label="Flagged">⚑</span>}
        {email.subject || "(no subject)"}
      </h2>
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
      <VerdictPanel email={email} inJunk={props.inJunk} />
      <AttachmentList jmap={props.jmap} parts={files} />
      {email.threadId && (
        <ThreadView
          jmap={props.jmap}
          threadId={email.threadId}
          openId={email.id}
          mailboxId={props.mailboxId}
        />
      )}
      {body.remote > 0 && !allowRemote && (
        <p class="remote-note">
          Remote images are blocked to protect your privacy.{" "}
          <button type="button" onClick={() => setAllowRemote(true)}>Show remote images</button>
          {sender && (
            <button
              type="button"
              onClick={() => {
                trustSender(sender);
                setAllowRemote(true);
              }}
            >
              {`Always show images from ${sender}`}
            </button>
          )}
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
