/**
 * Named leases across nodes (`Store.tryLease`): one row per held name. Taking a name whose
 * lease ran out is one upsert, so two nodes racing for it cannot both win (the row lock of
 * the conflicting insert orders them).
 *
 * @module
 */
import { q, type WriteContext } from "./context.ts";

export async function tryLease(
  ctx: WriteContext,
  a: { name: string; holder: string; now: number; until: number },
): Promise<boolean> {
  const r = await q(
    ctx,
    `INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
       WHERE leases.until <= $4 OR leases.holder = $2
     RETURNING holder`,
    [a.name, a.holder, Math.trunc(a.until), Math.trunc(a.now)],
  );
  return r.length === 1;
}

export async function renewLeases(
  ctx: WriteContext,
  a: { names: string[]; holder: string; until: number },
): Promise<void> {
  if (a.names.length === 0) return;
  await ctx.tx.unsafe(
    "UPDATE leases SET until = $1 WHERE holder = $2 AND name = ANY($3::text[])",
    [Math.trunc(a.until), a.holder, a.names] as never[],
  );
}

export async function releaseLease(
  ctx: WriteContext,
  a: { name: string; holder: string },
): Promise<void> {
  await q(ctx, "DELETE FROM leases WHERE name = $1 AND holder = $2", [a.name, a.holder]);
}
