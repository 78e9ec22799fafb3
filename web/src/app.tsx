/**
 * The app shell: sign-in when there is no usable token, else the mailbox navigation, the
 * message list and the open message (or the compose form), driven by the URL fragment
 * (route.ts). After a move or a send the mailboxes and the list are fetched again.
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import { forgetToken, savedToken, signOut } from "./auth.ts";
import { type EmailFull, Jmap, type Mailbox, SignedOut } from "./jmap.ts";
import { type MoveAction, moveEmail } from "./actions.ts";
import { Compose } from "./compose.tsx";
import { type ComposeKind, type Draft, draftFrom, EMPTY_DRAFT } from "./draft.ts";
import { MailboxNav, sortMailboxes } from "./mailbox_nav.tsx";
import { MessageList } from "./message_list.tsx";
import { MessageView } from "./message_view.tsx";
import { href, useRoute } from "./route.ts";
import { SignIn } from "./sign_in.tsx";

export function App() {
  const [token, setToken] = useState<string | null>(savedToken);
  const [jmap, setJmap] = useState<Jmap | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    Jmap.connect(token).then((j) => {
      j.onSignedOut = () => {
        forgetToken();
        setJmap(null);
        setToken(null);
      };
      if (live) setJmap(j);
    }).catch((e) => {
      if (!live) return;
      if (e instanceof SignedOut) {
        forgetToken();
        setToken(null);
      } else setError((e as Error).message);
    });
    return () => {
      live = false;
    };
  }, [token]);

  if (!token) return <SignIn onSignedIn={setToken} />;
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!jmap) return <p class="loading">Loading…</p>;
  const leave = async () => {
    await signOut(token);
    setJmap(null);
    setToken(null);
    history.replaceState(null, "", "/");
  };
  return <Mail jmap={jmap} onSignOut={leave} />;
}

function Mail(props: { jmap: Jmap; onSignOut: () => void }) {
  const { jmap } = props;
  const route = useRoute();
  const [mailboxes, setMailboxes] = useState<Mailbox[] | null>(null);
  const [version, setVersion] = useState(0);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [search, setSearch] = useState("");
  const [searchText, setSearchText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const refresh = () => setVersion((v) => v + 1);

  useEffect(() => {
    jmap.mailboxes().then((m) => setMailboxes(sortMailboxes(m)));
  }, [jmap, version]);

  const inbox = mailboxes?.find((m) => m.role === "inbox") ?? mailboxes?.[0];
  useEffect(() => {
    if (!route.mailboxId && inbox) location.replace(href(inbox.id));
  }, [route.mailboxId, inbox]);

  // Choosing a mailbox ends a search; opening a message closes the compose form.
  const endSearch = () => {
    setSearch("");
    setSearchText("");
  };
  useEffect(() => setDraft(null), [route.emailId]);

  const current = mailboxes?.find((m) => m.id === route.mailboxId) ?? null;
  const move = (action: MoveAction) => {
    if (!mailboxes || !route.emailId || !current) return;
    setError(null);
    moveEmail(jmap, mailboxes, route.emailId, action).then(() => {
      location.hash = href(current.id);
      refresh();
    }).catch((e) => setError((e as Error).message));
  };
  const compose = (kind: ComposeKind, email: EmailFull) =>
    setDraft(draftFrom(kind, email, jmap.username));
  const sent = (ok: boolean) => {
    setDraft(null);
    if (ok) refresh();
  };
  const onSearch = (e: KeyboardEvent) => {
    if (e.key === "Enter") setSearch(searchText.trim());
  };
  return (
    <div class={route.emailId || draft ? "mail reading" : "mail"}>
      <header class="top">
        <span class="brand">denomail</span>
        <button type="button" onClick={() => setDraft(EMPTY_DRAFT)}>Compose</button>
        <input
          type="search"
          class="search"
          aria-label="Search mail"
          placeholder="Search mail"
          value={searchText}
          onInput={(e) => setSearchText((e.target as HTMLInputElement).value)}
          onKeyDown={onSearch}
        />
        {error && <span role="alert" class="error">{error}</span>}
        <span class="user">{jmap.username}</span>
        <button type="button" onClick={props.onSignOut}>Sign out</button>
      </header>
      <MailboxNav mailboxes={mailboxes ?? []} current={route.mailboxId} onPick={endSearch} />
      {current
        ? (
          <MessageList
            key={`${current.id}/${search}`}
            jmap={jmap}
            mailbox={current}
            openId={route.emailId}
            search={search}
            version={version}
          />
        )
        : <section class="list" />}
      {draft && mailboxes
        ? <Compose jmap={jmap} mailboxes={mailboxes} draft={draft} onDone={sent} />
        : current && route.emailId
        ? (
          <MessageView
            key={route.emailId}
            jmap={jmap}
            emailId={route.emailId}
            inJunk={current.role === "junk"}
            onMove={move}
            onCompose={compose}
            onSeen={refresh}
          />
        )
        : (
          <section class="reader empty" aria-label="No message open">
            <p class="empty-note">Select a message to read it.</p>
          </section>
        )}
    </div>
  );
}
