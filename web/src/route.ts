/**
 * Where the user is, kept in the URL's fragment (`#/m/<mailbox>` and `#/m/<mailbox>/<email>`)
 * so that reloads and the back button work and the server serves only `/`.
 *
 * @module
 */
/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";

export interface Route {
  mailboxId: string | null;
  emailId: string | null;
  /** `#/settings`: the Settings page. */
  settings: boolean;
}

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return "";
    }
  });
  if (parts[0] === "settings") return { mailboxId: null, emailId: null, settings: true };
  if (parts[0] !== "m" || !parts[1]) return { mailboxId: null, emailId: null, settings: false };
  return { mailboxId: parts[1], emailId: parts[2] || null, settings: false };
}

export const SETTINGS_HREF = "#/settings";

export function href(mailboxId: string, emailId?: string): string {
  const m = `#/m/${encodeURIComponent(mailboxId)}`;
  return emailId ? `${m}/${encodeURIComponent(emailId)}` : m;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
