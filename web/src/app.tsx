/**
 * The app: sign-in when there is no usable token, else the signed-in mail (mail.tsx).
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
import { forgetToken, savedToken, signOut } from "./auth.ts";
import { Jmap, SignedOut } from "./jmap.ts";
import { Mail } from "./mail.tsx";
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
