/**
 * Plugin kv reads of the SQLite store (on the reader connection): live (unexpired) values
 * only. Synchronous, no writes.
 *
 * @module
 */
import type { Row, Statements } from "../rows.ts";

const utf8 = new TextDecoder();

export function kvGet(read: Statements, ns: string, key: string, now: number): string | null {
  // As a BLOB: node:sqlite cuts TEXT results at the first NUL, the bytes are intact.
  const r = read.get(
    `SELECT CAST(value AS BLOB) AS value FROM kv
     WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  ).get(ns, key, now) as Row | undefined;
  return r ? utf8.decode(r.value as Uint8Array) : null;
}

export function kvGetMany(
  read: Statements,
  ns: string,
  keys: string[],
  now: number,
): (string | null)[] {
  // One statement for any number of keys: the list goes in as one JSON array and the
  // answer comes back as one JSON object built by SQLite (a row object and a value copy
  // per key cost more than the lookups: measured). JSON escapes NUL, so values are whole.
  const row = read.get(
    `SELECT json_group_object(key, value) AS found FROM kv
     WHERE ns = ? AND key IN (SELECT value FROM json_each(?))
       AND (expires_at IS NULL OR expires_at > ?)`,
  ).get(ns, JSON.stringify(keys), now) as Row | undefined;
  const found = JSON.parse((row?.found as string | undefined) ?? "{}") as Record<string, string>;
  return keys.map((k) => Object.hasOwn(found, k) ? found[k] : null);
}
