/**
 * Writes on the plugin key-value store, with expiry and per-namespace quotas.
 *
 * Every write to a namespace first takes a transaction-level advisory lock on it, so writes
 * to one namespace apply one after the other on every node: `kvIncr` never loses an
 * increment and a quota cannot be raced past. A quota is checked on the namespace's current
 * rows (expired or not, as on SQLite); when a write would pass it, the namespace's expired
 * rows are dropped first, and if it still does not fit the write is refused: it returns
 * `{ refused }` (the purge commits) and the store throws StoreError("quota").
 *
 * Speed: the quota check counts the namespace's rows (one index range scan per write that
 * carries a quota); a usage counter row is the next step if namespaces grow large.
 *
 * @module
 */
import { type KvQuota, StoreError } from "../../mod.ts";
import { Buffer } from "node:buffer";
import { q, q1, type WriteContext } from "./context.ts";

const utf8 = new TextDecoder();

/** What a kv write returns instead of its result when the quota refuses it. */
export interface KvRefusal {
  refused: string;
}

const BYTES = "octet_length(key) + octet_length(value)";

/** Serialises writes to one namespace until COMMIT (across connections and nodes). */
async function lockNamespace(ctx: WriteContext, ns: string): Promise<void> {
  await q(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('kv:' || $1, 0))", [ns]);
}

/** Drops a few expired keys on each kv write, so expired keys do not pile up. */
async function purgeExpired(ctx: WriteContext, now: number): Promise<void> {
  await q(
    ctx,
    `DELETE FROM kv WHERE (ns, key) IN
       (SELECT ns, key FROM kv WHERE expires_at <= $1 ORDER BY expires_at LIMIT 64
        FOR UPDATE SKIP LOCKED)`,
    [now],
  );
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).byteLength;
}

async function usage(ctx: WriteContext, ns: string): Promise<{ keys: number; bytes: number }> {
  const r = await q1(
    ctx,
    `SELECT count(*) AS n, coalesce(sum(${BYTES}), 0)::bigint AS b FROM kv WHERE ns = $1`,
    [ns],
  );
  return { keys: r!.n as number, bytes: r!.b as number };
}

function over(u: { keys: number; bytes: number }, keys: number, bytes: number, qt: KvQuota) {
  if (keys > 0 && u.keys + keys > qt.maxKeys) return `kv_max_keys (${qt.maxKeys})`;
  if (bytes > 0 && u.bytes + bytes > qt.maxBytes) return `kv_max_bytes (${qt.maxBytes})`;
  return null;
}

/** Replaces the row `ns/key` by `value`, within `quota` when one is given. */
async function kvPut(
  ctx: WriteContext,
  row: { ns: string; key: string; value: string; expiresAt: number | null },
  quota: KvQuota | undefined,
  now: number,
): Promise<KvRefusal | null> {
  const { ns, key } = row;
  if (quota) {
    const old = await q1(ctx, `SELECT ${BYTES} AS b FROM kv WHERE ns = $1 AND key = $2`, [ns, key]);
    const keys = old ? 0 : 1;
    const bytes = utf8Length(key) + utf8Length(row.value) - (old ? old.b as number : 0);
    if (over(await usage(ctx, ns), keys, bytes, quota)) {
      await q(ctx, "DELETE FROM kv WHERE ns = $1 AND expires_at <= $2", [ns, now]);
      const u = await usage(ctx, ns);
      const limit = over(u, keys, bytes, quota);
      if (limit) {
        return {
          refused: `kv area ${ns} is full: ${u.keys} keys, ${u.bytes} bytes; the limit is ${limit}`,
        };
      }
    }
  }
  await q(
    ctx,
    `INSERT INTO kv (ns, key, value, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    [ns, key, Buffer.from(row.value, "utf8"), row.expiresAt],
  );
  return null;
}

function expiry(now: number, ttlMs: number | undefined): number | null {
  if (ttlMs === undefined || ttlMs === null) return null;
  if (!Number.isFinite(ttlMs)) throw new StoreError("invalid", "ttlMs must be a number");
  return now + Math.max(0, Math.trunc(ttlMs));
}

/** PostgreSQL text holds no NUL: namespaces and keys are checked, not silently changed. */
function checkText(...ss: string[]): void {
  if (ss.some((s) => s.includes("\u0000"))) {
    throw new StoreError("invalid", "kv namespaces and keys cannot hold NUL on PostgreSQL");
  }
}

export async function kvSet(
  ctx: WriteContext,
  a: { ns: string; key: string; value: string; ttlMs?: number; quota?: KvQuota },
): Promise<KvRefusal | null> {
  const now = ctx.now();
  const value = String(a.value);
  checkText(a.ns, a.key);
  await lockNamespace(ctx, a.ns);
  await purgeExpired(ctx, now);
  return kvPut(ctx, { ns: a.ns, key: a.key, value, expiresAt: expiry(now, a.ttlMs) }, a.quota, now);
}

export async function kvDelete(ctx: WriteContext, a: { ns: string; key: string }): Promise<void> {
  await lockNamespace(ctx, a.ns);
  await q(ctx, "DELETE FROM kv WHERE ns = $1 AND key = $2", [a.ns, a.key]);
}

/**
 * Adds `by` to an integer value (missing or expired = 0). `ttlMs` applies when the key is
 * created; an existing key keeps its expiry (a fixed window, as rate limits want).
 */
export async function kvIncr(
  ctx: WriteContext,
  a: { ns: string; key: string; by: number; ttlMs?: number; quota?: KvQuota },
): Promise<number | KvRefusal> {
  if (!Number.isSafeInteger(a.by)) throw new StoreError("invalid", "kvIncr: by must be an integer");
  checkText(a.ns, a.key);
  const now = ctx.now();
  await lockNamespace(ctx, a.ns);
  await purgeExpired(ctx, now);
  const r = await q1(
    ctx,
    `SELECT value, expires_at FROM kv
     WHERE ns = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)`,
    [a.ns, a.key, now],
  );
  let current = 0;
  let expiresAt = expiry(now, a.ttlMs);
  if (r) {
    current = Number(utf8.decode(r.value as Uint8Array));
    if (!Number.isSafeInteger(current)) {
      throw new StoreError("invalid", `kv ${a.ns}/${a.key} does not hold an integer`);
    }
    expiresAt = r.expires_at as number | null;
  }
  const row = { ns: a.ns, key: a.key, value: String(current + a.by), expiresAt };
  const refused = await kvPut(ctx, row, a.quota, now);
  return refused ?? current + a.by;
}

/**
 * `kvIncr` of many keys in one transaction (in order; a key may repeat): each key's new
 * value, or null where the quota refused a new key (the others still count). One lock, one
 * read of the keys, one usage count and one upsert, where as many `kvIncr`s would each lock
 * the namespace and count its rows.
 */
export async function kvIncrMany(
  ctx: WriteContext,
  a: { ns: string; entries: Array<[string, number]>; ttlMs?: number; quota?: KvQuota },
): Promise<Array<number | null>> {
  for (const [key, by] of a.entries) {
    if (!Number.isSafeInteger(by)) throw new StoreError("invalid", "kvIncr: by must be an integer");
    checkText(key);
  }
  checkText(a.ns);
  const now = ctx.now();
  await lockNamespace(ctx, a.ns);
  await purgeExpired(ctx, now);
  const keys = [...new Set(a.entries.map(([k]) => k))];
  let u = a.quota ? await usage(ctx, a.ns) : null;
  if (u && a.quota) {
    // Room for the most the batch could add (every key new, 20 digits a value)? If not, the
    // expired rows go first, as kvPut drops them before it refuses.
    const most = keys.reduce((n, k) => n + utf8Length(k) + 20, 0);
    if (over(u, keys.length, most, a.quota)) {
      await q(ctx, "DELETE FROM kv WHERE ns = $1 AND expires_at <= $2", [a.ns, now]);
      u = await usage(ctx, a.ns);
    }
  }
  // Each key's row: its size (expired or not, as the quota counts it), and its value and
  // expiry while it is live.
  const rows = new Map<string, { size: number; value: number | null; expiresAt: number | null }>();
  for (
    const r of await q(
      ctx,
      `SELECT key, ${BYTES} AS b, value, expires_at,
         (expires_at IS NULL OR expires_at > $3) AS live
       FROM kv WHERE ns = $1 AND key = ANY($2::text[])`,
      [a.ns, keys, now],
    )
  ) {
    const key = r.key as string;
    let value: number | null = null;
    if (r.live) {
      value = Number(utf8.decode(r.value as Uint8Array));
      if (!Number.isSafeInteger(value)) {
        throw new StoreError("invalid", `kv ${a.ns}/${key} does not hold an integer`);
      }
    }
    rows.set(key, { size: Number(r.b), value, expiresAt: r.expires_at as number | null });
  }
  const out: Array<number | null> = [];
  const changed = new Map<string, { value: number; expiresAt: number | null }>();
  for (const [key, by] of a.entries) {
    const row = rows.get(key);
    const live = row?.value !== null && row !== undefined;
    const value = (live ? row.value! : 0) + by;
    const expiresAt = live ? row.expiresAt : expiry(now, a.ttlMs);
    const size = utf8Length(key) + String(value).length;
    if (u && a.quota) {
      const dk = row ? 0 : 1;
      const db = size - (row?.size ?? 0);
      if (over(u, dk, db, a.quota)) {
        out.push(null);
        continue;
      }
      u = { keys: u.keys + dk, bytes: u.bytes + db };
    }
    rows.set(key, { size, value, expiresAt });
    changed.set(key, { value, expiresAt });
    out.push(value);
  }
  if (changed.size > 0) {
    await q(
      ctx,
      `INSERT INTO kv (ns, key, value, expires_at)
       SELECT $1, x.k, convert_to(x.v, 'UTF8'), x.e
       FROM unnest($2::text[], $3::text[], $4::bigint[]) AS x(k, v, e)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [
        a.ns,
        [...changed.keys()],
        [...changed.values()].map((c) => String(c.value)),
        [...changed.values()].map((c) => c.expiresAt),
      ],
    );
  }
  return out;
}
