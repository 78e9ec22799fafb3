/**
 * The "Messages" list of one mailbox (or of a search), newest first, one page of 50 at a
 * time: Email/query with position and calculateTotal, then Email/get by result reference,
 * in one round trip. Only the visible page is ever fetched, so a mailbox of 100,000
 * messages costs what one of 50 does. "Group by thread" asks the server to collapse
 * threads (RFC 8621 §4.4.3 collapseThreads), showing each thread's newest message.
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import type { EmailSummary, Jmap, Mailbox } from "./jmap.ts";
import { href } from "./route.ts";
import { MessageRow } from "./message_row.tsx";
import { type BulkActions, BulkBar } from "./bulk_bar.tsx";
import { searchFilter } from "./search_filter.ts";

export const PAGE = 50;

export function MessageList(
  props: BulkActions & {
    jmap: Jmap;
    mailbox: Mailbox;
    mailboxes: Mailbox[];
    openId: string | null;
    search: string;
    version: number;
    selected: ReadonlySet<string>;
    threads: boolean;
    onThreads: (on: boolean) => void;
    onSelect: (ids: string[], on: boolean) => void;
    /** The ids shown, in order (for j/k). */
    onShown: (ids: string[]) => void;
  },
) {
  const { jmap, mailbox, search, selected } = props;
  const [position, setPosition] = useState(0);
  const [page, setPage] = useState<{ emails: EmailSummary[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    let filter: Record<string, unknown>;
    try {
      // A search looks through every mailbox (RFC 8621 §4.4.1 conditions).
      filter = search ? searchFilter(search) : { inMailbox: mailbox.id };
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    jmap.page(filter, position, PAGE, props.threads).then((p) => {
      if (!live) return;
      setError(null);
      setPage(p);
      props.onShown(p.emails.map((e) => e.id));
    }).catch((e) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [jmap, mailbox.id, position, search, props.version, props.threads]);

  const total = page?.total ?? 0;
  const shown = page?.emails ?? [];
  const allPicked = shown.length > 0 && shown.every((e) => selected.has(e.id));
  return (
    <section class="list" aria-label={search ? "Search results" : mailbox.name}>
      <div class="list-head">
        <input
          type="checkbox"
          aria-label="Select all on this page"
          checked={allPicked}
          onChange={() => props.onSelect(shown.map((e) => e.id), !allPicked)}
        />
        <h2 class="list-title">{search ? `Search: ${search}` : mailbox.name}</h2>
        <label class="inline">
          <input
            type="checkbox"
            checked={props.threads}
            onChange={(e) => props.onThreads((e.target as HTMLInputElement).checked)}
          />{" "}
          Group by thread
        </label>
      </div>
      {selected.size > 0 && (
        <BulkBar
          {...props}
          count={selected.size}
          inJunk={mailbox.role === "junk"}
          current={mailbox.id}
        />
      )}
      {error && <p role="alert" class="error">{error}</p>}
      <ul class="messages" aria-label="Messages" aria-busy={page ? undefined : "true"}>
        {shown.map((e) => (
          <MessageRow
            key={e.id}
            email={e}
            link={href(mailbox.id, e.id)}
            open={e.id === props.openId}
            selected={selected.has(e.id)}
            dragIds={() => (selected.has(e.id) ? [...selected] : [e.id])}
            onSelect={(on) => props.onSelect([e.id], on)}
          />
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
