/**
 * The "Messages" list of one mailbox, newest first, a page at a time (Email/query with
 * position and calculateTotal, then Email/get by result reference: one round trip).
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import type { EmailSummary, Jmap, Mailbox } from "./jmap.ts";
import { shortDate, who } from "./format.ts";
import { href } from "./route.ts";

const PAGE = 50;

export function MessageList(
  props: { jmap: Jmap; mailbox: Mailbox; openId: string | null; search: string; version: number },
) {
  const { jmap, mailbox, search } = props;
  const [position, setPosition] = useState(0);
  const [page, setPage] = useState<{ emails: EmailSummary[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    // A search looks through every mailbox (Email/query text filter, RFC 8621 §4.4.1).
    const filter = search ? { text: search } : { inMailbox: mailbox.id };
    jmap.page(filter, position, PAGE).then((p) => live && setPage(p))
      .catch((e) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [jmap, mailbox.id, position, search, props.version]);

  const total = page?.total ?? 0;
  return (
    <section class="list" aria-label={search ? "Search results" : mailbox.name}>
      <h2 class="list-title">{search ? `Search: ${search}` : mailbox.name}</h2>
      {error && <p role="alert" class="error">{error}</p>}
      <ul class="messages" aria-label="Messages" aria-busy={page ? undefined : "true"}>
        {page?.emails.map((e) => (
          <li key={e.id} class={e.keywords?.$seen ? "seen" : "unseen"}>
            <a
              href={href(mailbox.id, e.id)}
              aria-current={e.id === props.openId ? "true" : undefined}
            >
              <span class="from">{who(e.from)}</span>
              <span class="subject">{e.subject || "(no subject)"}</span>
              <time dateTime={e.receivedAt}>{shortDate(e.receivedAt)}</time>
              <span class="preview">{e.preview}</span>
            </a>
          </li>
        ))}
      </ul>
      {page && page.emails.length === 0 && <p class="empty-note">No messages.</p>}
      {total > PAGE && (
        <div class="pager">
          <button
            type="button"
            disabled={position === 0}
            onClick={() => setPosition(Math.max(0, position - PAGE))}
          >
            Newer
          </button>
          <span>{`${position + 1}–${Math.min(position + PAGE, total)} of ${total}`}</span>
          <button
            type="button"
            disabled={position + PAGE >= total}
            onClick={() => setPosition(position + PAGE)}
          >
            Older
          </button>
        </div>
      )}
    </section>
  );
}
