/**
 * The signed-in shell: the top bar, the mailbox navigation, the message list and the open
 * message, the compose form or Settings, driven by the URL fragment (route.ts). Changes —
 * ours (a move, a send) or the server's (JMAP push, push.ts) — bump `version`, which makes
 * the mailboxes and the list fetch again. Shortcut keys: keyboard.ts.
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useRef, useState } from "preact/hooks";
import type { EmailFull, Jmap, Mailbox } from "./jmap.ts";
import { type MoveAction, moveEmails, moveToMailbox, setKeyword } from "./actions.ts";
import { Compose } from "./compose.tsx";
import { type ComposeKind, type Draft, draftFrom, draftFromSaved, EMPTY_DRAFT } from "./draft.ts";
import { MailboxNav, sortMailboxes } from "./mailbox_nav.tsx";
import { MessageList } from "./message_list.tsx";
import { MessageView } from "./message_view.tsx";
import { href, SETTINGS_HREF, useRoute } from "./route.ts";
import { Settings } from "./settings.tsx";
import { startPush } from "./push.ts";
import { useShortcuts } from "./keyboard.ts";
import { ShortcutsHelp } from "./shortcuts_help.tsx";

function placeholder(id: string): Mailbox {
  return {
    id,
    name: "",
    role: null,
    parentId: null,
    sortOrder: 0,
    totalEmails: 0,
    unreadEmails: 0,
  };
}

export function Mail(props: { jmap: Jmap; onSignOut: () => void }) {
  const { jmap } = props;
  const route = useRoute();
  const [mailboxes, setMailboxes] = useState<Mailbox[] | null>(null);
  const [version, setVersion] = useState(0);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [search, setSearch] = useState("");
  const [searchText, setSearchText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [threads, setThreads] = useState(false);
  const [help, setHelp] = useState(false);
  const shown = useRef<string[]>([]);
  const openEmail = useRef<EmailFull | null>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const refresh = () => setVersion((v) => v + 1);

  useEffect(() => {
    jmap.mailboxes().then((m) => setMailboxes(sortMailboxes(m)))
      .catch((e) => setError((e as Error).message));
  }, [jmap, version]);

  // Live updates: a burst of state changes becomes one refresh.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = startPush(jmap, () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [jmap]);

  const inbox = mailboxes?.find((m) => m.role === "inbox") ?? mailboxes?.[0];
  useEffect(() => {
    if (!route.mailboxId && !route.settings && inbox) location.replace(href(inbox.id));
  }, [route.mailboxId, route.settings, inbox]);

  // Choosing a mailbox ends a search and the selection; opening a message closes Compose.
  const endSearch = () => {
    setSearch("");
    setSearchText("");
  };
  useEffect(() => setDraft(null), [route.emailId, route.settings]);
  useEffect(() => setSelected(new Set()), [route.mailboxId, search]);

  // Until the mailboxes arrive, the list already loads for the mailbox in the URL.
  const current = mailboxes?.find((m) => m.id === route.mailboxId) ??
    (route.mailboxId && !mailboxes ? placeholder(route.mailboxId) : null);
  const fail = (e: unknown) => setError((e as Error).message);
  const after = (p: Promise<unknown>, leave: boolean) => {
    setError(null);
    p.then(() => {
      if (leave && current) location.hash = href(current.id);
      refresh();
    }).catch(fail);
  };
  // Moves need the mailboxes' roles: fetched here if the list arrived before them.
  const boxes = async () => mailboxes ?? await jmap.mailboxes();
  const move = (action: MoveAction) =>
    route.emailId &&
    after(boxes().then((m) => moveEmails(jmap, m, [route.emailId!], action)), true);
  const keyword = (k: string, on: boolean) =>
    route.emailId && after(setKeyword(jmap, [route.emailId], k, on), false);
  const bulk = (p: Promise<unknown>) => {
    const open = route.emailId && selected.has(route.emailId);
    setSelected(new Set());
    after(p, !!open);
  };
  const compose = (kind: ComposeKind, email: EmailFull) =>
    setDraft(draftFrom(kind, email, jmap.username));
  const sent = (changed: boolean) => {
    setDraft(null);
    if (changed) refresh();
  };
  const select = (ids: string[], on: boolean) =>
    setSelected((cur) => {
      const next = new Set(cur);
      for (const id of ids) on ? next.add(id) : next.delete(id);
      return next;
    });
  const step = (by: number) => {
    const ids = shown.current;
    if (!current || !ids.length) return;
    const i = route.emailId ? ids.indexOf(route.emailId) : -1;
    const next = ids[Math.min(ids.length - 1, Math.max(0, i < 0 ? 0 : i + by))];
    location.hash = href(current.id, next);
  };
  const shortcut = (key: string): boolean => {
    // Only the message on screen: not the one before while the next is still loading.
    const email = openEmail.current?.id === route.emailId ? openEmail.current : null;
    const on: Record<string, () => unknown> = {
      j: () => step(1),
      k: () => step(-1),
      c: () => setDraft(EMPTY_DRAFT),
      "/": () => searchBox.current?.focus(),
      "?": () => setHelp(true),
      r: () => email && compose("reply", email),
      a: () => email && compose("replyAll", email),
      f: () => email && compose("forward", email),
      "#": () => email && move("delete"),
      e: () => email && move("archive"),
      u: () => email && keyword("$seen", false),
    };
    if (!on[key] || draft || route.settings) return false;
    on[key]();
    return true;
  };
  useShortcuts(shortcut);

  const main = route.settings && mailboxes
    ? <Settings jmap={jmap} mailboxes={mailboxes} onChanged={refresh} />
    : draft && mailboxes
    ? <Compose jmap={jmap} mailboxes={mailboxes} draft={draft} onDone={sent} />
    : current && route.emailId
    ? (
      <MessageView
        key={route.emailId}
        jmap={jmap}
        emailId={route.emailId}
        inJunk={current.role === "junk"}
        inDrafts={current.role === "drafts"}
        mailboxId={current.id}
        version={version}
        onLoaded={(e) => (openEmail.current = e)}
        onMove={move}
        onCompose={compose}
        onKeyword={keyword}
        onEditDraft={(e) => setDraft(draftFromSaved(e))}
        onSeen={refresh}
      />
    )
    : (
      <section class="reader empty" aria-label="No message open">
        <p class="empty-note">Select a message to read it.</p>
      </section>
    );
  if (!route.emailId) openEmail.current = null;
  return (
    <div class={route.emailId || draft || route.settings ? "mail reading" : "mail"}>
      <header class="top">
        <span class="brand">denomail</span>
        <button type="button" aria-keyshortcuts="c" onClick={() => setDraft(EMPTY_DRAFT)}>
          Compose
        </button>
        <input
          ref={searchBox}
          type="search"
          class="search"
          aria-label="Search mail"
          aria-keyshortcuts="/"
          placeholder="Search mail (from: to: subject: has:attachment)"
          value={searchText}
          onInput={(e) => setSearchText((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === "Enter" && setSearch(searchText.trim())}
        />
        {error && <span role="alert" class="error">{error}</span>}
        <span class="user">{jmap.username}</span>
        <button
          type="button"
          class="help"
          aria-label="Keyboard shortcuts"
          title="Keyboard shortcuts (?)"
          aria-keyshortcuts="?"
          onClick={() => setHelp(true)}
        >
          ?
        </button>
        <a class="button" href={SETTINGS_HREF}>Settings</a>
        <button type="button" onClick={props.onSignOut}>Sign out</button>
      </header>
      <MailboxNav
        mailboxes={mailboxes ?? []}
        current={route.mailboxId}
        onPick={endSearch}
        onDropEmails={(id, ids) => after(moveToMailbox(jmap, ids, id), false)}
      />
      {current && !route.settings
        ? (
          <MessageList
            key={`${current.id}/${search}`}
            jmap={jmap}
            mailbox={current}
            mailboxes={mailboxes ?? []}
            openId={route.emailId}
            search={search}
            version={version}
            selected={selected}
            threads={threads}
            onThreads={setThreads}
            onSelect={select}
            onShown={(ids) => (shown.current = ids)}
            onBulkMove={(a) => bulk(boxes().then((m) => moveEmails(jmap, m, [...selected], a)))}
            onBulkKeyword={(k, on) => bulk(setKeyword(jmap, [...selected], k, on))}
            onBulkMoveTo={(id) => bulk(moveToMailbox(jmap, [...selected], id))}
            onClear={() => setSelected(new Set())}
          />
        )
        : !route.settings && <section class="list" />}
      {main}
      <ShortcutsHelp open={help} onClose={() => setHelp(false)} />
    </div>
  );
}
