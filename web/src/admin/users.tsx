/**
 * The Users page: the accounts with quota, usage, role and OpenPGP key; "Add user" (with a
 * password) or "Invite user" (a one-time sign-up link), and per user: reset the password
 * (typed twice), give or take the admin role, remove (after a confirmation).
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { AddForm } from "./add_form.tsx";
import { call, seg, size } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface User {
  email: string;
  role: "admin" | "user";
  quotaBytes: number | null;
  usageBytes: number;
  key: { fingerprint: string; algorithm: string; expires: string | null } | null;
}

/** Groups of four, as fingerprints are read out. */
const spaced = (fp: string) => fp.replace(/(.{4})(?=.)/g, "$1 ");

export function UsersPage(props: { session: Session }) {
  const { session } = props;
  const users = useLoad<{ users: User[] }>(session, "users");
  const [error, setError] = useState<string | null>(null);
  const [link, setLink] = useState<{ email: string; url: string; expiresAt: string } | null>(null);
  const [resetting, setResetting] = useState<string | null>(null);
  const [quotaOf, setQuotaOf] = useState<string | null>(null);

  const act = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
    users.reload();
  };
  const add = async (data: FormData) => {
    const added = await call<{ email: string }>(session.token, "POST", "users", {
      email: String(data.get("email")),
      password: String(data.get("password")),
      admin: data.get("admin") === "on",
    });
    users.reload();
    // The API sets the quota on its own route (the CLI's `user quota`), after the account exists.
    const quota = String(data.get("quota") ?? "").trim();
    if (!quota) return;
    try {
      await call(session.token, "PUT", `users/${seg(added.email)}/quota`, { quota });
    } catch (e) {
      throw new Error(
        `${added.email} was added, but the quota was refused: ${(e as Error).message}`,
      );
    } finally {
      users.reload();
    }
  };
  const invite = async (data: FormData) => {
    const r = await call<{ email: string; path: string; expiresAt: string }>(
      session.token,
      "POST",
      "invites",
      { email: String(data.get("email")), admin: data.get("admin") === "on" },
    );
    setLink({ email: r.email, url: location.origin + r.path, expiresAt: r.expiresAt });
  };
  const remove = (email: string) =>
    act(async () => {
      if (!confirm(`Remove ${email} and all of its mail? This cannot be undone.`)) return;
      await call(session.token, "DELETE", `users/${seg(email)}`);
    });
  const setRole = (u: User) =>
    act(() =>
      call(session.token, "PUT", `users/${seg(u.email)}/role`, {
        role: u.role === "admin" ? "user" : "admin",
      })
    );

  return (
    <>
      <div class="toolbar">
        <AddForm label="Add user" submit={add}>
          <label>
            Email address
            <input name="email" type="email" required autocomplete="off" />
          </label>
          <label>
            Password
            <input name="password" type="password" required autocomplete="new-password" />
          </label>
          <label>
            Quota
            <input name="quota" placeholder="e.g. 2G (empty: no limit)" />
          </label>
          <label class="check">
            <input name="admin" type="checkbox" /> Administrator
          </label>
        </AddForm>
        <AddForm label="Invite user" submit={invite}>
          <label>
            Address to invite
            <input name="email" type="email" required autocomplete="off" />
          </label>
          <label class="check">
            <input name="admin" type="checkbox" /> Administrator
          </label>
        </AddForm>
      </div>
      {link && (
        <section class="records" aria-label="Sign-up link">
          <p>
            Send this link to {link.email}; it works once, until{" "}
            {new Date(link.expiresAt).toLocaleString()}:
          </p>
          <input readOnly aria-label="Sign-up link" value={link.url} class="link" />
        </section>
      )}
      {(users.error ?? error) && <p role="alert" class="error">{users.error ?? error}</p>}
      {quotaOf && (
        <QuotaForm
          email={quotaOf}
          session={session}
          done={() => {
            setQuotaOf(null);
            users.reload();
          }}
        />
      )}
      {resetting && (
        <ResetPassword
          email={resetting}
          session={session}
          done={() => setResetting(null)}
        />
      )}
      <table aria-label="Users">
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Quota</th>
            <th scope="col">Usage</th>
            <th scope="col">Role</th>
            <th scope="col">OpenPGP key</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.users.map((u) => (
            <tr key={u.email}>
              <td>{u.email}</td>
              <td>{size(u.quotaBytes)}</td>
              <td>
                {size(u.usageBytes)}
                {u.quotaBytes ? ` (${Math.round((100 * u.usageBytes) / u.quotaBytes)} %)` : ""}
              </td>
              <td>{u.role}</td>
              <td class="value" title={u.key?.algorithm}>
                {u.key ? spaced(u.key.fingerprint) : "none"}
              </td>
              <td class="actions">
                <button
                  type="button"
                  title={`Reset the password of ${u.email}`}
                  onClick={() => setResetting(u.email)}
                >
                  Reset password
                </button>{" "}
                <button
                  type="button"
                  aria-label={`Set the quota of ${u.email}`}
                  onClick={() => setQuotaOf(u.email)}
                >
                  Set quota
                </button>{" "}
                <button
                  type="button"
                  aria-label={u.role === "admin"
                    ? `Take the admin role from ${u.email}`
                    : `Make ${u.email} an admin`}
                  onClick={() => setRole(u)}
                >
                  {u.role === "admin" ? "Remove admin" : "Make admin"}
                </button>{" "}
                <button
                  type="button"
                  aria-label={`Remove ${u.email}`}
                  onClick={() => remove(u.email)}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The new password typed twice; PUT users/EMAIL/password (the CLI's `user passwd`). */
function ResetPassword(props: { email: string; session: Session; done: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const password = String(data.get("password"));
    if (password !== String(data.get("confirm"))) {
      setError("The two passwords are not the same.");
      return;
    }
    try {
      await call(props.session.token, "PUT", `users/${seg(props.email)}/password`, { password });
      setSaved(true);
    } catch (err) {
      if (!props.session.fail(err as Error)) setError((err as Error).message);
    }
  };
  return (
    <form class="add-form" onSubmit={submit} aria-label={`New password for ${props.email}`}>
      <h2>New password for {props.email}</h2>
      {saved ? <p role="status">The password of {props.email} was changed.</p> : (
        <>
          <label>
            New password
            <input name="password" type="password" required autocomplete="new-password" />
          </label>
          <label>
            Confirm password
            <input name="confirm" type="password" required autocomplete="new-password" />
          </label>
        </>
      )}
      {error && <p role="alert" class="error">{error}</p>}
      <div class="actions">
        {!saved && <button type="submit">Save password</button>}
        <button type="button" onClick={props.done}>{saved ? "Close" : "Cancel"}</button>
      </div>
    </form>
  );
}

/** PUT users/EMAIL/quota (the CLI's `user quota`): "2G", "500M", bytes or "none". */
function QuotaForm(props: { email: string; session: Session; done: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    try {
      await call(props.session.token, "PUT", `users/${seg(props.email)}/quota`, {
        quota: String(data.get("quota")).trim(),
      });
      props.done();
    } catch (err) {
      if (!props.session.fail(err as Error)) setError((err as Error).message);
    }
  };
  return (
    <form class="add-form" onSubmit={submit} aria-label={`Quota of ${props.email}`}>
      <h2>Quota of {props.email}</h2>
      <label>
        New quota
        <input name="quota" required placeholder='e.g. 2G, 500M, or "none"' />
      </label>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="submit">Save quota</button>
        <button type="button" onClick={props.done}>Cancel</button>
      </div>
    </form>
  );
}
