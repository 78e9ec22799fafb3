/**
 * Pruning the histories on PostgreSQL, as on SQLite (see storage/sqlite/retention.ts for the
 * rules and the RFC answers past a cut): each mailbox keeps its newest `expungedKeep` expunge
 * records and each account its newest `changeLogKeep` change-log records; where each was cut
 * is remembered (`expunged_pruned`, `change_log_pruned`), and old audit entries go.
 *
 * @module
 */
import type { PruneResult, RetentionLimits } from "../mod.ts";
import type { Read } from "./rows.ts";
import { q, q1, type WriteContext } from "./writes/context.ts";

/** Migration "history_pruned": the horizons of the pruned histories. */
export const HISTORY_PRUNED_MIGRATION = `
  CREATE TABLE expunged_pruned (
    mailbox_id bigint PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    modseq     bigint NOT NULL
  );
  CREATE TABLE change_log_pruned (
    account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    id         bigint NOT NULL
  );
`;

/** Write op: prunes every history past its limit; returns how many rows went. */
export async function pruneHistory(ctx: WriteContext, a: RetentionLimits): Promise<PruneResult> {
  const out: PruneResult = { expunged: 0, changeLog: 0, audit: 0 };
  if (a.expungedKeep > 0) {
    const over = await q(
      ctx,
      "SELECT mailbox_id FROM expunged GROUP BY mailbox_id HAVING count(*) > $1",
      [a.expungedKeep],
    );
    for (const { mailbox_id: mb } of over) {
      // The MODSEQ at the cut: records at or below it go, whole (one expunge = one modseq).
      const cut = (await q1(
        ctx,
        "SELECT modseq FROM expunged WHERE mailbox_id = $1 ORDER BY modseq DESC OFFSET $2 LIMIT 1",
        [mb as number, a.expungedKeep],
      ))!.modseq as number;
      out.expunged += (await q(
        ctx,
        "DELETE FROM expunged WHERE mailbox_id = $1 AND modseq <= $2 RETURNING 1",
        [mb as number, cut],
      )).length;
      await q(
        ctx,
        `INSERT INTO expunged_pruned (mailbox_id, modseq) VALUES ($1, $2) ON CONFLICT (mailbox_id)
         DO UPDATE SET modseq = greatest(expunged_pruned.modseq, excluded.modseq)`,
        [mb as number, cut],
      );
    }
  }
  if (a.changeLogKeep > 0) {
    const over = await q(
      ctx,
      "SELECT account_id FROM change_log GROUP BY account_id HAVING count(*) > $1",
      [a.changeLogKeep],
    );
    for (const { account_id: acc } of over) {
      const cut = (await q1(
        ctx,
        "SELECT id FROM change_log WHERE account_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1",
        [acc as number, a.changeLogKeep],
      ))!.id as number;
      out.changeLog += (await q(
        ctx,
        "DELETE FROM change_log WHERE account_id = $1 AND id <= $2 RETURNING 1",
        [acc as number, cut],
      )).length;
      await q(
        ctx,
        `INSERT INTO change_log_pruned (account_id, id) VALUES ($1, $2) ON CONFLICT (account_id)
         DO UPDATE SET id = greatest(change_log_pruned.id, excluded.id)`,
        [acc as number, cut],
      );
    }
  }
  if (a.auditKeepMs > 0) {
    out.audit = (await q(ctx, "DELETE FROM audit WHERE at < $1 RETURNING 1", [
      ctx.now() - a.auditKeepMs,
    ])).length;
  }
  return out;
}

/** The highest change-log id pruned for the account (0: none). */
export async function changeLogFloor(read: Read, accountId: number): Promise<number> {
  const r = await read("SELECT id FROM change_log_pruned WHERE account_id = $1", [accountId]);
  return (r[0]?.id as number | undefined) ?? 0;
}

/**
 * UIDs expunged since `modseq` (RFC 7162 §3.2.10); past the pruned horizon, every UID below
 * UIDNEXT that is not in the mailbox (RFC 7162 §3.2.5.1 lets the server name UIDs the client
 * never saw).
 */
export async function expungedSince(read: Read, mailboxId: number, modseq: number) {
  const pruned = await read("SELECT modseq FROM expunged_pruned WHERE mailbox_id = $1", [
    mailboxId,
  ]);
  if (pruned.length === 0 || modseq >= (pruned[0].modseq as number)) {
    return (await read(
      "SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
      [mailboxId, modseq],
    )).map((r) => r.uid as number);
  }
  return (await read(
    `SELECT g AS uid FROM mailboxes m, generate_series(1, m.uid_next - 1) g
     WHERE m.id = $1 AND NOT EXISTS (SELECT 1 FROM messages WHERE mailbox_id = $1 AND uid = g)
     ORDER BY g`,
    [mailboxId],
  )).map((r) => Number(r.uid));
}
