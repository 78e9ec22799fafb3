/**
 * Calls to the server's /webmail/ settings routes (protocols/http/web/account_settings.ts):
 * JSON in, JSON out, the bearer token in the header like every JMAP call.
 *
 * @module
 */
/// <reference lib="dom" />
import type { Jmap } from "./jmap.ts";

/** Sends `body` (or nothing) to `path`; resolves to the JSON answer, or null for 204/404. */
export async function settingsCall(
  jmap: Jmap,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> | null> {
  const res = await fetch(path, {
    method,
    headers: { ...jmap.auth, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204 || (method === "GET" && res.status === 404)) return null;
  const out = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(out.error ?? `the server answered ${res.status}`);
  return out;
}
