/**
 * The page of a one-time sign-up link (`/signup/TOKEN`): shows the address the admin named
 * and lets its owner choose the password (typed twice); the server creates the account.
 * Uses the sign-in form's look.
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";

async function api(token: string, body?: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`/api/signup/${encodeURIComponent(token)}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error("The server cannot be reached.");
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(typeof json.error === "string" ? json.error : `Failed (${res.status}).`);
  }
  return json;
}

export function SignupPage(props: { token: string }) {
  const [email, setEmail] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api(props.token).then((r) => setEmail(String(r.email))).catch((e) => setError(e.message));
  }, [props.token]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const password = String(data.get("password"));
    if (password !== String(data.get("confirm"))) {
      setError("The two passwords are not the same.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api(props.token, { password });
      form.reset();
      setDone(true);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form onSubmit={submit} aria-labelledby="signup-title">
        <h1 id="signup-title">Choose a password</h1>
        {done
          ? (
            <p role="status">
              The account {email} is ready. <a href="/">Sign in to the webmail</a>.
            </p>
          )
          : email && (
            <>
              <p>For {email}</p>
              <label>
                New password
                <input name="password" type="password" autocomplete="new-password" required />
              </label>
              <label>
                Confirm password
                <input name="confirm" type="password" autocomplete="new-password" required />
              </label>
            </>
          )}
        {error && <p role="alert" class="error">{error}</p>}
        {email && !done && <button type="submit" disabled={busy}>Create account</button>}
      </form>
    </main>
  );
}
