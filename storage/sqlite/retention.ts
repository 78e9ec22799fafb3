/**
 * Pruning the histories that would otherwise grow forever, without making an answer wrong:
 *
 * - `expunged` (QRESYNC VANISHED (EARLIER), RFC 7162 §3.2.10): each mailbox keeps its newest
 *   `expungedKeep` records; the highest MODSEQ pruned is remembered (`expunged_pruned`). A
 *   client whose MODSEQ is older than that gets, instead of an exact list, every UID below
 *   UIDNEXT that is not in the mailbox — RFC 7162 §3.2.5.1 lets the server include UIDs the
 *   client never saw (the client drops those it does not have), so nothing is missed.
 * - `change_log` (JMAP states, RFC 8620 §5.2): each account keeps its newest `changeLogKeep`
 *   records; the highest id pruned is remembered (`change_log_pruned`), and a state at or
 *   before it answers `cannotCalculateChanges` (RFC 8620 §5.2: the client then refetches).
 * - `audit`: entries older than `auditKeepMs` go.
 *
 * A limit of 0 keeps everything of that kind. Pruning is a write op (`pruneHistory`), run by
 * the server on a timer (`[storage] prune_interval`), in bounded steps.
 *
 * @module
 */
import type { WriteContext } from "./writes/context.ts";
import type { Statements } from "./rows.ts";

/** Migration "history_pruned": where the pruned horizons are remembered. */
export const HISTORY_PRUNED_MIGRATION = `
  CREATE TABLE expunged_pruned (
    mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
    modseq     INTEGER NOT NULL
  );
  CREATE TABLE change_log_pruned (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    id         INTEGER NOT NULL
  );
`;

import type { PruneResult, RetentionLimits } from "../mod.ts";

/** Write op: prunes every history past its limit; returns how many rows went. */
export function pruneHistory(ctx: WriteContext, a: RetentionLimits): PruneResult {
  const out: PruneResult = { expunged: 0, changeLog: 0, audit: 0 };
  if (a.expungedKeep > 0) {
    const over = ctx.sql.get(
      "SELECT mailbox_id, count(*) AS n FROM expunged GROUP BY mailbox_id HAVING n > ?",
    ).all(a.expungedKeep) as Array<{ mailbox_id: number; n: number }>;
    for (const { mailbox_id: mb } of over) {
      // The MODSEQ at the cut: records at or below it go, whole (one expunge = one modseq).
      const cut = ctx.sql.get(
        "SELECT modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq DESC LIMIT 1 OFFSET ?",
      ).get(mb, a.expungedKeep) as { modseq: number };
      out.expunged += Number(
        ctx.sql.get("DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?").run(mb, cut.modseq)
          .changes,
      );
      ctx.sql.get(
        `INSERT INTO expunged_pruned (mailbox_id, modseq) VALUES (?, ?)
         ON CONFLICT (mailbox_id) DO UPDATE SET modseq = max(modseq, excluded.modseq)`,
      ).run(mb, cut.modseq);
    }
  }
  if (a.changeLogKeep > 0) {
    const over = ctx.sql.get(
      "SELECT account_id, count(*) AS n FROM change_log GROUP BY account_id HAVING n > ?",
    ).all(a.changeLogKeep) as Array<{ account_id: number }>;
    for (const { account_id: acc } of over) {
      const cut = ctx.sql.get(
        "SELECT id FROM change_log WHERE account_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
      ).get(acc, a.changeLogKeep) as { id: number };
      out.changeLog += Number(
        ctx.sql.get("DELETE FROM change_log WHERE account_id = ? AND id <= ?").run(acc, cut.id)
          .changes,
      );
      ctx.sql.get(
        `INSERT INTO change_log_pruned (account_id, id) VALUES (?, ?)
         ON CONFLICT (account_id) DO UPDATE SET id = max(id, excluded.id)`,
      ).run(acc, cut.id);
    }
  }
  if (a.auditKeepMs > 0) {
    out.audit = Number(
      ctx.sql.get("DELETE FROM audit WHERE at < ?").run(ctx.now() - a.auditKeepMs).changes,
    );
  }
  return out;
}

/** The highest change-log id pruned for the account (0: none; states after it answer). */
export function changeLogFloor(read: Statements, accountId: number): number {
  const r = read.get("SELECT id FROM change_log_pruned WHERE account_id = ?").get(accountId) as
    | { id: number }
    | undefined;
  return r?.id ?? 0;
}

/**
 * UIDs expunged since `modseq` (RFC 7162 §3.2.10); past the pruned horizon, every UID below
 * UIDNEXT not in the mailbox (see the module note). Streams the mailbox's UIDs.
 */
export function expungedSince(read: Statements, mailboxId: number, modseq: number): number[] {
  const pruned = read.get("SELECT modseq FROM expunged_pruned WHERE mailbox_id = ?").get(
    mailboxId,
  ) as { modseq: number } | undefined;
  if (!pruned || modseq >= pruned.modseq) {
    return (read.get("SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid")
      .all(mailboxId, modseq) as Array<{ uid: number }>).map((r) => r.uid);
  }
  const mb = read.get("SELECT uid_next FROM mailboxes WHERE id = ?").get(mailboxId) as
    | { uid_next: number }
    | undefined;
  if (!mb) return [];
  const out: number[] = [];
  let next = 1;
  const uids = read.get("SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid")
    .iterate(mailboxId) as Iterable<{ uid: number }>;
  for (const { uid } of uids) {
    for (; next < uid; next++) out.push(next);
    next = uid + 1;
  }
  for (; next < mb.uid_next; next++) out.push(next);
  return out;
}
