/** The sign-in form (CONTRACT accessible names: Email address, Password, Sign in, alert). */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { signIn } from "./auth.ts";

export function SignIn(props: { onSignedIn: (token: string) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    try {
      const token = await signIn(String(data.get("email")), String(data.get("password")));
      form.reset(); // the password leaves the page's memory with the form's value
      props.onSignedIn(token);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">denomail</h1>
        <label>
          Email address
          <input name="email" type="email" autocomplete="username" required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && <p role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}
