/**
 * The admin console's shell: the webmail's sign-in (same form, same token), then a check
 * that the account is an admin (a non-admin sees a refusal, never data: the API answers 403
 * on every route), then the Admin navigation and the page named by the URL fragment.
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import { forgetToken, savedToken, signOut } from "../auth.ts";
import { SignIn } from "../sign_in.tsx";
import { call, NotAdmin, SignedOut } from "./api.ts";
import { DomainsPage } from "./domains.tsx";
import { ActivityPage } from "./activity.tsx";
import { AliasesPage, PluginsPage } from "./lists.tsx";
import { QueuePage } from "./queue.tsx";
import { ServerPage } from "./server.tsx";
import type { Session } from "./session.ts";
import { UsersPage } from "./users.tsx";

const PAGES = [
  ["domains", "Domains", DomainsPage],
  ["users", "Users", UsersPage],
  ["aliases", "Aliases", AliasesPage],
  ["queue", "Queue", QueuePage],
  ["plugins", "Plugins", PluginsPage],
  ["activity", "Activity", ActivityPage],
  ["server", "Server", ServerPage],
] as const;

function pageOf(hash: string): string {
  const name = hash.replace(/^#\/?/, "");
  return PAGES.some(([id]) => id === name) ? name : "users";
}

function usePage(): string {
  const [page, setPage] = useState(() => pageOf(location.hash));
  useEffect(() => {
    const on = () => setPage(pageOf(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return page;
}

type Access = "checking" | "admin" | { refused: string };

export function AdminApp() {
  const [token, setToken] = useState<string | null>(savedToken);
  const [access, setAccess] = useState<Access>("checking");
  const [error, setError] = useState<string | null>(null);
  const page = usePage();

  const dropToken = () => {
    forgetToken();
    setToken(null);
    setAccess("checking");
  };
  /** Handles the errors that end the session or the access; true when it did. */
  const fail = (e: Error): boolean => {
    if (e instanceof SignedOut) dropToken();
    else if (e instanceof NotAdmin) setAccess({ refused: e.message });
    else return false;
    return true;
  };

  useEffect(() => {
    if (!token) return;
    let live = true;
    setAccess("checking");
    // Any admin route answers 403 to a non-admin; this one is cheap.
    call(token, "GET", "domains").then(() => live && setAccess("admin")).catch((e) => {
      if (live && !fail(e)) setError((e as Error).message);
    });
    return () => {
      live = false;
    };
  }, [token]);

  if (!token) return <SignIn onSignedIn={setToken} />;
  const leave = async () => {
    await signOut(token);
    dropToken();
  };
  const top = (
    <header class="top">
      <span class="brand">denomail admin</span>
      <a class="user" href="/">Webmail</a>
      <button type="button" onClick={leave}>Sign out</button>
    </header>
  );
  if (error) {
    return (
      <div class="admin">
        {top}
        <p role="alert" class="error">{error}</p>
      </div>
    );
  }
  if (access === "checking") return <p class="loading">Loading…</p>;
  if (access !== "admin") {
    return (
      <div class="admin">
        {top}
        <main class="admin-page">
          <h1>Not an administrator</h1>
          <p role="alert" class="error">
            This account cannot use the admin console ({access.refused}). Sign out and sign in with
            an admin account.
          </p>
        </main>
      </div>
    );
  }
  const session: Session = { token, fail };
  const current = PAGES.find(([id]) => id === page)!;
  const Page = current[2];
  return (
    <div class="admin">
      {top}
      <nav class="admin-nav" aria-label="Admin">
        <ul>
          {PAGES.map(([id, label]) => (
            <li key={id}>
              <a href={`#/${id}`} aria-current={id === page ? "page" : undefined}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main class="admin-page">
        <h1>{current[1]}</h1>
        <Page key={page} session={session} />
      </main>
    </div>
  );
}
