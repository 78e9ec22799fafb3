/**
 * The app shell: sign-in when there is no usable token, else the mailbox navigation, the
 * message list and the open message, driven by the URL fragment (route.ts).
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import { forgetToken, savedToken, signOut } from "./auth.ts";
import { Jmap, type Mailbox, SignedOut } from "./jmap.ts";
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

  useEffect(() => {
    jmap.mailboxes().then((m) => setMailboxes(sortMailboxes(m)));
  }, [jmap]);

  const inbox = mailboxes?.find((m) => m.role === "inbox") ?? mailboxes?.[0];
  useEffect(() => {
    if (!route.mailboxId && inbox) location.replace(href(inbox.id));
  }, [route.mailboxId, inbox]);

  const current = mailboxes?.find((m) => m.id === route.mailboxId) ?? null;
  return (
    <div class={route.emailId ? "mail reading" : "mail"}>
      <header class="top">
        <span class="brand">denomail</span>
        <span class="user">{jmap.username}</span>
        <button type="button" onClick={props.onSignOut}>Sign out</button>
      </header>
      <MailboxNav mailboxes={mailboxes ?? []} current={route.mailboxId} />
      {current
        ? (
          <MessageList
            key={current.id}
            jmap={jmap}
            mailbox={current}
            openId={route.emailId}
          />
        )
        : <section class="list" />}
      {current && route.emailId
        ? <MessageView key={route.emailId} jmap={jmap} emailId={route.emailId} />
        : (
          <section class="reader empty" aria-label="No message open">
            <p class="empty-note">Select a message to read it.</p>
          </section>
        )}
    </div>
  );
}
