/**
 * Writes on the plugin key-value store, with expiry and per-namespace quotas (`../kv_quota.ts`).
 *
 * @module
 */
import { type KvQuota, StoreError } from "../../mod.ts";
import { type Row } from "../rows.ts";
import {
  adjustUsage,
  checkQuota as checkKvQuota,
  type KvRefusal,
  purgedRows,
  rowSize,
  utf8Length,
} from "../kv_quota.ts";
import { type WriteContext } from "./context.ts";

/** Drops a few expired keys on each kv write, so expired keys do not pile up. */
function purgeExpired(ctx: WriteContext, now: number): void {
  purgedRows(
    ctx.sql,
    ctx.sql.get(
      `DELETE FROM kv WHERE (ns, key) IN
         (SELECT ns, key FROM kv WHERE expires_at <= ? ORDER BY expires_at LIMIT 64)
       RETURNING ns, length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS b`,
    ).all(now) as Array<{ ns: string; b: number }>,
  );
}

/**
 * Replaces the row `ns/key` by `value`, within `quota` when one is given (kv_quota.ts): the
 * refusal, or null when written. A row's size is its key's and value's UTF-8 bytes.
 */
function kvPut(
  ctx: WriteContext,
  row: { ns: string; key: string; value: string; expiresAt: number | null },
  quota: KvQuota | undefined,
  now: number,
): KvRefusal | null {
  const { ns, key } = row;
  const old = rowSize(ctx.sql, ns, key);
  const keys = old === null ? 1 : 0;
  const bytes = utf8Length(key) + utf8Length(row.value) - (old ?? 0);
  if (quota) {
    const refused = checkKvQuota(ctx.sql, ns, keys, bytes, quota, now);
    if (refused) return { refused };
  }
  ctx.sql.get("INSERT OR REPLACE INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)").run(
    ns,
    key,
    row.value,
    row.expiresAt,
  );
  adjustUsage(ctx.sql, ns, keys, bytes);
  return null;
}

function expiry(now: number, ttlMs: number | undefined): number | null {
  if (ttlMs === undefined || ttlMs === null) return null;
  if (!Number.isFinite(ttlMs)) throw new StoreError("invalid", "ttlMs must be a number");
  return now + Math.max(0, Math.trunc(ttlMs));
}

export function kvSet(
  ctx: WriteContext,
  a: { ns: string; key: string; value: string; ttlMs?: number; quota?: KvQuota },
): KvRefusal | null {
  const now = ctx.now();
  purgeExpired(ctx, now);
  const row = { ns: a.ns, key: a.key, value: String(a.value), expiresAt: expiry(now, a.ttlMs) };
  return kvPut(ctx, row, a.quota, now);
}

export function kvDelete(ctx: WriteContext, a: { ns: string; key: string }): void {
  const old = rowSize(ctx.sql, a.ns, a.key);
  if (old === null) return;
  ctx.sql.get("DELETE FROM kv WHERE ns = ? AND key = ?").run(a.ns, a.key);
  adjustUsage(ctx.sql, a.ns, -1, -old);
}

/**
 * Adds `by` to an integer value (missing or expired = 0). `ttlMs` applies when the key is
 * created; an existing key keeps its expiry (a fixed window, as rate limits want).
 */
export function kvIncr(
  ctx: WriteContext,
  a: { ns: string; key: string; by: number; ttlMs?: number; quota?: KvQuota },
): number | KvRefusal {
  if (!Number.isSafeInteger(a.by)) throw new StoreError("invalid", "kvIncr: by must be an integer");
  const now = ctx.now();
  purgeExpired(ctx, now);
  return incrOne(ctx, a, now);
}

/**
 * `kvIncr` of many keys in one write (in order; a key may repeat): each key's new value, or
 * null where the quota refused a new key (the others still count).
 */
export function kvIncrMany(
  ctx: WriteContext,
  a: { ns: string; entries: Array<[string, number]>; ttlMs?: number; quota?: KvQuota },
): Array<number | null> {
  for (const [, by] of a.entries) {
    if (!Number.isSafeInteger(by)) throw new StoreError("invalid", "kvIncr: by must be an integer");
  }
  const now = ctx.now();
  purgeExpired(ctx, now);
  return a.entries.map(([key, by]) => {
    const r = incrOne(ctx, { ns: a.ns, key, by, ttlMs: a.ttlMs, quota: a.quota }, now);
    return typeof r === "number" ? r : null;
  });
}

function incrOne(
  ctx: WriteContext,
  a: { ns: string; key: string; by: number; ttlMs?: number; quota?: KvQuota },
  now: number,
): number | KvRefusal {
  const r = ctx.sql.get(
    "SELECT value, expires_at FROM kv WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)",
  ).get(a.ns, a.key, now) as Row | undefined;
  let current = 0;
  let expiresAt = expiry(now, a.ttlMs);
  if (r) {
    current = Number(r.value);
    if (!Number.isSafeInteger(current)) {
      throw new StoreError("invalid", `kv ${a.ns}/${a.key} does not hold an integer`);
    }
    expiresAt = r.expires_at as number | null;
  }
  const row = { ns: a.ns, key: a.key, value: String(current + a.by), expiresAt };
  const refused = kvPut(ctx, row, a.quota, now);
  return refused ?? current + a.by;
}
