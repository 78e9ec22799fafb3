/**
 * The open message's conversation: the other messages of its thread (RFC 8621 §3 Thread/get,
 * then the list properties of its Emails, oldest first), each a link that opens it. Shown
 * only when the thread holds more than the open message.
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import type { EmailSummary, Jmap } from "./jmap.ts";
import { shortDate, who } from "./format.ts";
import { href } from "./route.ts";

export function ThreadView(
  props: { jmap: Jmap; threadId: string; openId: string; mailboxId: string },
) {
  const { jmap } = props;
  const [emails, setEmails] = useState<EmailSummary[]>([]);
  useEffect(() => {
    let live = true;
    jmap.call([
      ["Thread/get", { accountId: jmap.accountId, ids: [props.threadId] }, "t"],
      ["Email/get", {
        accountId: jmap.accountId,
        "#ids": { resultOf: "t", name: "Thread/get", path: "/list/*/emailIds" },
        properties: ["from", "subject", "receivedAt", "preview", "keywords"],
      }, "e"],
    ]).then((out) => live && setEmails(out[1][1].list as EmailSummary[]))
      .catch(() => live && setEmails([]));
    return () => {
      live = false;
    };
  }, [jmap, props.threadId]);
  if (emails.length < 2) return null;
  return (
    <details class="thread" open>
      <summary>{`Conversation (${emails.length} messages)`}</summary>
      <ol aria-label="Conversation">
        {emails.map((e) => (
          <li key={e.id} class={e.id === props.openId ? "here" : ""}>
            <a
              href={href(props.mailboxId, e.id)}
              aria-current={e.id === props.openId ? "true" : undefined}
            >
              <span class="from">{who(e.from)}</span>{" "}
              <time dateTime={e.receivedAt}>{shortDate(e.receivedAt)}</time>{" "}
              <span class="preview">{e.preview}</span>
            </a>
          </li>
        ))}
      </ol>
    </details>
  );
}
