/**
 * The admin API client: JSON over `/api/admin/`, with the same bearer token the webmail's
 * sign-in hands out (the server checks the admin role on every call).
 *
 * @module
 */
/// <reference lib="dom" />

/** The server said 401: the token is gone or revoked. */
export class SignedOut extends Error {}

/** The server said 403: this account is not an admin. */
export class NotAdmin extends Error {}

/** Calls `method path` and returns the JSON body; throws an Error with the API's message. */
export async function call<T>(
  token: string,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  // Every change says application/json, with a body or not: the API's CSRF rule refuses
  // (415) a POST, PUT or DELETE without it.
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    body ??= {};
  }
  let res: Response;
  try {
    res = await fetch(`/api/admin/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error("The server cannot be reached.");
  }
  const json = await res.json().catch(() => ({}));
  if (res.status === 401) throw new SignedOut("Signed out.");
  // Errors are `{"error": message, "type": kind}` (protocols/http/admin/request.ts).
  const message = typeof json.error === "string" ? json.error : `Request failed (${res.status}).`;
  if (res.status === 403) throw new NotAdmin(message);
  if (!res.ok) throw new Error(message);
  return json as T;
}

/** A path segment, encoded. */
export const seg = (s: string | number) => encodeURIComponent(String(s));

/** Bytes as a short human size. */
export function size(bytes: number | null): string {
  if (bytes === null) return "no limit";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}
