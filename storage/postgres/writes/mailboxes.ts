/**
 * Writes on mailboxes and subscriptions: create, delete, rename (RFC 9051 §6.3.4-§6.3.6,
 * §6.3.9). Each first locks the account's row: mailbox names of one account change one
 * writer at a time, on every node.
 *
 * @module
 */
import { type Mailbox, type SpecialUse, StoreError } from "../../mod.ts";
import { DELIMITER, normalizeMailboxName } from "../../names.ts";
import {
  bumpMailbox,
  checkSpecialUse,
  insertMailbox,
  lockAccounts,
  lockChangeLogs,
  lockMailboxes,
  mailboxById,
  mailboxByName,
  mailboxChanged,
  q,
  recordExpunged,
  type WriteContext,
} from "./context.ts";

export async function createMailbox(
  ctx: WriteContext,
  a: { accountId: number; name: string; specialUse?: SpecialUse | null },
): Promise<Mailbox> {
  const name = normalizeMailboxName(a.name);
  await lockAccounts(ctx, [a.accountId]);
  const mb = await insertMailbox(ctx, a.accountId, name, a.specialUse ?? null);
  mailboxChanged(ctx, a.accountId);
  return mb;
}

/** RFC 9051 §6.3.5: INBOX cannot be deleted; inferior mailboxes are left alone. */
export async function deleteMailbox(ctx: WriteContext, a: { mailboxId: number }): Promise<void> {
  const found = await mailboxById(ctx, a.mailboxId);
  await lockAccounts(ctx, [found.accountId]);
  const mb = (await lockMailboxes(ctx, [a.mailboxId])).get(a.mailboxId)!;
  if (mb.name === "INBOX") throw new StoreError("invalid", "INBOX cannot be deleted");
  // Messages and expunge records cascade; blobs are released by trigger. Subscriptions
  // stay (RFC 9051 §6.3.9: the server must not remove them unilaterally).
  await q(ctx, "DELETE FROM mailboxes WHERE id = $1", [mb.id]);
  mailboxChanged(ctx, mb.accountId);
}

/**
 * RFC 9051 §6.3.6. Renaming a mailbox renames its inferiors too. Renaming INBOX moves all
 * its messages into a new mailbox of that name and leaves INBOX empty (its inferiors stay).
 * Subscriptions of the renamed names follow them.
 */
export async function renameMailbox(
  ctx: WriteContext,
  a: { mailboxId: number; newName: string },
): Promise<void> {
  const found = await mailboxById(ctx, a.mailboxId);
  await lockAccounts(ctx, [found.accountId]);
  await lockChangeLogs(ctx, [found.accountId]); // before the renames lock mailbox rows
  const mb = await mailboxById(ctx, a.mailboxId); // as of the lock
  const newName = normalizeMailboxName(a.newName);
  if (newName === mb.name) throw new StoreError("exists", `mailbox already exists: ${newName}`);

  if (mb.name === "INBOX") {
    await renameInbox(ctx, mb, newName);
    mailboxChanged(ctx, mb.accountId);
    return;
  }
  if (newName === "INBOX" || newName.startsWith(mb.name + DELIMITER)) {
    throw new StoreError(
      newName === "INBOX" ? "exists" : "invalid",
      `cannot rename ${mb.name} to ${newName}`,
    );
  }
  // The mailbox and its inferiors: names in [name + "/", name + "0") ("0" follows "/").
  const family = await q(
    ctx,
    `SELECT id, name FROM mailboxes
     WHERE account_id = $1 AND (id = $2 OR (name > $3 AND name < $4))`,
    [mb.accountId, mb.id, mb.name + DELIMITER, mb.name + "0"],
  );
  const renames = family.map((r) => ({
    id: r.id as number,
    from: r.name as string,
    to: newName + (r.name as string).slice(mb.name.length),
  }));
  const ids = new Set(renames.map((r) => r.id));
  for (const r of renames) {
    const other = await mailboxByName(ctx, mb.accountId, r.to);
    if (other && !ids.has(other.id)) {
      throw new StoreError("exists", `mailbox already exists: ${r.to}`);
    }
  }
  // Two passes: a target name may be another member's current name (renaming "a/b" to "a"
  // turns "a/b/b" into "a/b"), and UNIQUE is checked row by row.
  for (const r of renames) {
    await q(ctx, "UPDATE mailboxes SET name = $1 WHERE id = $2", [
      `\u0001rename\u0001${r.id}`,
      r.id,
    ]);
  }
  for (const r of renames) {
    await q(ctx, "UPDATE mailboxes SET name = $1 WHERE id = $2", [r.to, r.id]);
  }
  for (const r of renames) {
    const was = await q(
      ctx,
      "DELETE FROM subscriptions WHERE account_id = $1 AND name = $2 RETURNING name",
      [mb.accountId, r.from],
    );
    if (was.length > 0) {
      await q(
        ctx,
        "INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [mb.accountId, r.to],
      );
    }
  }
  mailboxChanged(ctx, mb.accountId);
}

async function renameInbox(ctx: WriteContext, inbox: Mailbox, newName: string): Promise<void> {
  const target = await insertMailbox(ctx, inbox.accountId, newName, null);
  const locked = (await lockMailboxes(ctx, [inbox.id])).get(inbox.id)!;
  // The new mailbox has its own UIDVALIDITY, so the messages may keep their UIDs and
  // modseqs; its counters continue from INBOX's.
  await q(ctx, "UPDATE mailboxes SET uid_next = $1, highest_modseq = $2 WHERE id = $3", [
    locked.uidNext,
    locked.highestModseq,
    target.id,
  ]);
  const moved = (await q(
    ctx,
    "UPDATE messages SET mailbox_id = $1 WHERE mailbox_id = $2 RETURNING uid",
    [target.id, inbox.id],
  )).map((r) => r.uid as number).sort((x, y) => x - y);
  if (moved.length === 0) return;
  // INBOX keeps its UIDVALIDITY and UIDNEXT; the messages left it, so that is an expunge.
  const { modseq } = await bumpMailbox(ctx, inbox.id, 0);
  await recordExpunged(ctx, inbox.id, moved, modseq);
  ctx.changes.push({ kind: "expunge", mailboxId: inbox.id, uids: moved, highestModseq: modseq });
}

/** Sets or clears the mailbox's SPECIAL-USE attribute (RFC 6154; the JMAP role). */
export async function setSpecialUse(
  ctx: WriteContext,
  a: { mailboxId: number; specialUse: SpecialUse | null },
): Promise<void> {
  checkSpecialUse(a.specialUse);
  const mb = (await lockMailboxes(ctx, [a.mailboxId])).get(a.mailboxId)!;
  await q(ctx, "UPDATE mailboxes SET special_use = $1 WHERE id = $2", [a.specialUse, mb.id]);
  mailboxChanged(ctx, mb.accountId);
}

export async function setSubscribed(
  ctx: WriteContext,
  a: { accountId: number; name: string; subscribed: boolean },
): Promise<void> {
  const name = normalizeMailboxName(a.name);
  const exists = await q(ctx, "SELECT 1 AS x FROM accounts WHERE id = $1", [a.accountId]);
  if (exists.length === 0) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  await lockChangeLogs(ctx, [a.accountId]); // a rename may be moving this subscription
  if (a.subscribed) {
    await q(
      ctx,
      "INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [a.accountId, name],
    );
  } else {
    await q(ctx, "DELETE FROM subscriptions WHERE account_id = $1 AND name = $2", [
      a.accountId,
      name,
    ]);
  }
  mailboxChanged(ctx, a.accountId);
}
