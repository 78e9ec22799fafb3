/**
 * Sign-in and sign-out against the server's /webmail endpoints. The token lives in
 * sessionStorage: it survives reloads of the tab, ends with it, and is sent only as an
 * Authorization header (so no other site can make the browser send it). The password is
 * never kept.
 *
 * @module
 */
/// <reference lib="dom" />

const KEY = "denomail.token";

export function savedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem("denomail.session"); // jmap.ts's cached session object
}

/** Signs in; resolves to the token, or throws an Error whose message the user may read. */
export async function signIn(email: string, password: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch("/webmail/signin", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
  } catch {
    throw new Error("The server cannot be reached.");
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== "string") {
    throw new Error(body.error ?? `Sign-in failed (${res.status}).`);
  }
  sessionStorage.setItem(KEY, body.token);
  return body.token;
}

/** Revokes the token on the server (best effort) and forgets it here. */
export async function signOut(token: string): Promise<void> {
  forgetToken();
  await fetch("/webmail/signout", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  }).catch(() => {});
}
