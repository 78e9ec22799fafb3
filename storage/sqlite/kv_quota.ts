/**
 * Quotas on a kv namespace (a plugin's area): keys and bytes (UTF-8 of key + value), checked
 * in the writer, inside the write's transaction, so concurrent writers cannot race past a
 * limit (issue 13, item 13: 59 values of 1 MiB filled the disk).
 *
 * Usage counts the rows present in the namespace, expired or not, so that it changes only
 * with rows written and deleted: it is counted once per namespace (the first write that
 * asks for a quota) and then kept up to date by every kv write and purge. A write that would
 * pass a limit first drops the namespace's expired rows, then is refused: the write returns
 * `{ refused }` rather than throwing, so that the purge is kept (a throw would roll the
 * request back), and store.ts turns it into StoreError("quota"). A transaction that is rolled back as a whole forgets the counts
 * (`forgetKvUsage`); they are counted again on next use.
 *
 * @module
 */
import { type KvQuota, StoreError } from "../mod.ts";
import type { Statements } from "./rows.ts";

interface Usage {
  keys: number;
  bytes: number;
}

/**
 * Per write connection: namespace -> usage, for the namespaces counted so far. A cache of
 * what the database holds, keyed by the connection (dropped with it), so not server state.
 */
const usageBy = new WeakMap<Statements, Map<string, Usage>>();

function usages(sql: Statements): Map<string, Usage> {
  let m = usageBy.get(sql);
  if (!m) usageBy.set(sql, m = new Map());
  return m;
}

/** Bytes of `s` in UTF-8, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) i++, n += 2; // a surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

const BYTES = "length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))";

/** The size of the row `ns/key` as stored (expired or not), or null when there is none. */
export function rowSize(sql: Statements, ns: string, key: string): number | null {
  const r = sql.get(`SELECT ${BYTES} AS b FROM kv WHERE ns = ? AND key = ?`).get(ns, key) as
    | { b: number }
    | undefined;
  return r ? Number(r.b) : null;
}

/** Records a change of `ns` (when it is counted). */
export function adjustUsage(sql: Statements, ns: string, keys: number, bytes: number): void {
  const u = usages(sql).get(ns);
  if (!u) return;
  u.keys += keys;
  u.bytes += bytes;
}

/** Records rows a purge deleted (`DELETE ... RETURNING ns, <size> AS b`). */
export function purgedRows(sql: Statements, rows: Array<{ ns: string; b: number }>): void {
  for (const r of rows) adjustUsage(sql, r.ns, -1, -Number(r.b));
}

function load(sql: Statements, ns: string): Usage {
  let u = usages(sql).get(ns);
  if (!u) {
    const r = sql.get(`SELECT count(*) AS n, coalesce(sum(${BYTES}), 0) AS b FROM kv WHERE ns = ?`)
      .get(ns) as { n: number; b: number };
    u = { keys: Number(r.n), bytes: Number(r.b) };
    usages(sql).set(ns, u);
  }
  return u;
}

function over(u: Usage, keys: number, bytes: number, q: KvQuota): string | null {
  if (keys > 0 && u.keys + keys > q.maxKeys) return `kv_max_keys (${q.maxKeys})`;
  if (bytes > 0 && u.bytes + bytes > q.maxBytes) return `kv_max_bytes (${q.maxBytes})`;
  return null;
}

/**
 * Why adding `keys` keys and `bytes` bytes to `ns` would pass `quota` even after its expired
 * rows are dropped, or null when it fits.
 */
export function checkQuota(
  sql: Statements,
  ns: string,
  keys: number,
  bytes: number,
  quota: KvQuota,
  now: number,
): string | null {
  const u = load(sql, ns);
  if (!over(u, keys, bytes, quota)) return null;
  purgedRows(
    sql,
    sql.get(`DELETE FROM kv WHERE ns = ? AND expires_at <= ? RETURNING ns, ${BYTES} AS b`)
      .all(ns, now) as Array<{ ns: string; b: number }>,
  );
  const limit = over(u, keys, bytes, quota);
  return limit && `kv area ${ns} is full: ${u.keys} keys, ${u.bytes} bytes; the limit is ${limit}`;
}

/** What a kv write returns instead of its result when the quota refuses it. */
export interface KvRefusal {
  refused: string;
}

/** Throws StoreError("quota") for a refusal (on the caller's side of the writer). */
export function throwIfRefused<T>(r: T | KvRefusal): T {
  if (r && typeof r === "object" && "refused" in r) throw new StoreError("quota", r.refused);
  return r as T;
}

/** After a rolled-back transaction: counts are no longer known. */
export function forgetKvUsage(sql: Statements): void {
  usageBy.delete(sql);
}
