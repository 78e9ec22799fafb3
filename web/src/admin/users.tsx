/** The Users page: the accounts with quota, usage and role, and the "Add user" form. */
/// <reference lib="dom" />
import { AddForm } from "./add_form.tsx";
import { call, seg, size } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface User {
  email: string;
  role: "admin" | "user";
  quotaBytes: number | null;
  usageBytes: number;
}

export function UsersPage(props: { session: Session }) {
  const { session } = props;
  const users = useLoad<{ users: User[] }>(session, "users");
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
  return (
    <>
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
      {users.error && <p role="alert" class="error">{users.error}</p>}
      <table aria-label="Users">
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Quota</th>
            <th scope="col">Usage</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.users.map((u) => (
            <tr key={u.email}>
              <td>{u.email}</td>
              <td>{size(u.quotaBytes)}</td>
              <td>{size(u.usageBytes)}</td>
              <td>{u.role}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
