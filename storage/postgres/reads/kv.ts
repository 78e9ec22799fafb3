/**
 * Plugin kv reads of the PostgreSQL store (writes/kv.ts stores them): an entry past its
 * `expires_at` reads as absent.
 *
 * @module
 */
import type { Read } from "../rows.ts";

const utf8 = new TextDecoder();

/** PostgreSQL text cannot hold NUL: such a kv name was never stored. */
function hasNul(s: string): boolean {
  return s.includes("\u0000");
}

export async function kvGet(read: Read, ns: string, key: string): Promise<string | null> {
  if (hasNul(ns) || hasNul(key)) return null; // never stored (kv.ts refuses NUL in names)
  const [r] = await read(
    `SELECT value FROM kv WHERE ns = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)`,
    [ns, key, Date.now()],
  );
  return r ? utf8.decode(r.value as Uint8Array) : null;
}

export async function kvGetMany(
  read: Read,
  ns: string,
  keys: string[],
): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (hasNul(ns)) return keys.map(() => null);
  const rows = await read(
    `SELECT key, value FROM kv WHERE ns = $1 AND key = ANY($2::text[])
       AND (expires_at IS NULL OR expires_at > $3)`,
    [ns, keys.filter((k) => !hasNul(k)) as never, Date.now()],
  );
  const found = new Map(rows.map((r) => [r.key as string, utf8.decode(r.value as Uint8Array)]));
  return keys.map((k) => found.get(k) ?? null);
}
