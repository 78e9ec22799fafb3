/**
 * Writes on mailboxes and subscriptions: create, delete, rename (RFC 9051 §6.3.4-§6.3.6,
 * §6.3.9).
 *
 * @module
 */
import { type Mailbox, type SpecialUse, StoreError } from "../../mod.ts";
import { DELIMITER, normalizeMailboxName } from "../../names.ts";
import { type Row } from "../rows.ts";
import {
  bumpMailbox,
  insertMailbox,
  mailboxById,
  mailboxByName,
  mailboxChanged,
  recordExpunged,
  type WriteContext,
} from "./context.ts";

export function createMailbox(
  ctx: WriteContext,
  a: { accountId: number; name: string; specialUse?: SpecialUse | null },
): Mailbox {
  const name = normalizeMailboxName(a.name);
  const exists = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!exists) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  const mb = insertMailbox(ctx, a.accountId, name, a.specialUse ?? null);
  mailboxChanged(ctx, a.accountId);
  return mb;
}

/** RFC 9051 §6.3.5: INBOX cannot be deleted; inferior mailboxes are left alone. */
export function deleteMailbox(ctx: WriteContext, a: { mailboxId: number }): void {
  const mb = mailboxById(ctx, a.mailboxId);
  if (mb.name === "INBOX") throw new StoreError("invalid", "INBOX cannot be deleted");
  // Messages and expunge records cascade; blobs are released by trigger. Subscriptions
  // stay (RFC 9051 §6.3.9: the server must not remove them unilaterally).
  ctx.sql.get("DELETE FROM mailboxes WHERE id = ?").run(mb.id);
  mailboxChanged(ctx, mb.accountId);
}

/**
 * RFC 9051 §6.3.6. Renaming a mailbox renames its inferiors too. Renaming INBOX moves all
 * its messages into a new mailbox of that name and leaves INBOX empty (its inferiors stay).
 * Subscriptions of the renamed names follow them.
 */
export function renameMailbox(ctx: WriteContext, a: { mailboxId: number; newName: string }): void {
  const mb = mailboxById(ctx, a.mailboxId);
  const newName = normalizeMailboxName(a.newName);
  if (newName === mb.name) throw new StoreError("exists", `mailbox already exists: ${newName}`);

  if (mb.name === "INBOX") {
    renameInbox(ctx, mb, newName);
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
  const family = ctx.sql.get(
    `SELECT id, name FROM mailboxes
     WHERE account_id = ? AND (id = ? OR (name > ? AND name < ?))`,
  ).all(mb.accountId, mb.id, mb.name + DELIMITER, mb.name + "0") as Row[];
  const renames = family.map((r) => ({
    id: r.id as number,
    from: r.name as string,
    to: newName + (r.name as string).slice(mb.name.length),
  }));
  const ids = new Set(renames.map((r) => r.id));
  for (const r of renames) {
    const other = mailboxByName(ctx, mb.accountId, r.to);
    if (other && !ids.has(other.id)) {
      throw new StoreError("exists", `mailbox already exists: ${r.to}`);
    }
  }
  // Two passes: a target name may be another member's current name (renaming "a/b" to "a"
  // turns "a/b/b" into "a/b"), and UNIQUE is checked row by row.
  const setName = ctx.sql.get("UPDATE mailboxes SET name = ? WHERE id = ?");
  for (const r of renames) setName.run(`\u0000rename\u0000${r.id}`, r.id);
  for (const r of renames) setName.run(r.to, r.id);
  const subscribed = ctx.sql.get(
    "DELETE FROM subscriptions WHERE account_id = ? AND name = ? RETURNING name",
  );
  const subscribe = ctx.sql.get(
    "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)",
  );
  for (const r of renames) {
    if (subscribed.get(mb.accountId, r.from)) subscribe.run(mb.accountId, r.to);
  }
  mailboxChanged(ctx, mb.accountId);
}

function renameInbox(ctx: WriteContext, inbox: Mailbox, newName: string): void {
  const target = insertMailbox(ctx, inbox.accountId, newName, null);
  // The new mailbox has its own UIDVALIDITY, so the messages may keep their UIDs and
  // modseqs; its counters continue from INBOX's.
  ctx.sql.get("UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?").run(
    inbox.uidNext,
    inbox.highestModseq,
    target.id,
  );
  const moved = (ctx.sql.get(
    "UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ? RETURNING uid",
  ).all(target.id, inbox.id) as Row[]).map((r) => r.uid as number).sort((x, y) => x - y);
  if (moved.length === 0) return;
  // INBOX keeps its UIDVALIDITY and UIDNEXT; the messages left it, so that is an expunge.
  const { modseq } = bumpMailbox(ctx, inbox.id, 0);
  recordExpunged(ctx, inbox.id, moved, modseq);
  ctx.changes.push({ kind: "expunge", mailboxId: inbox.id, uids: moved, highestModseq: modseq });
}

/** Sets (or clears) a mailbox's SPECIAL-USE attribute (RFC 6154; JMAP Mailbox role). */
export function setSpecialUse(
  ctx: WriteContext,
  a: { mailboxId: number; specialUse: SpecialUse | null },
): void {
  const mb = mailboxById(ctx, a.mailboxId);
  ctx.sql.get("UPDATE mailboxes SET special_use = ? WHERE id = ?").run(a.specialUse, mb.id);
  mailboxChanged(ctx, mb.accountId);
}

export function setSubscribed(
  ctx: WriteContext,
  a: { accountId: number; name: string; subscribed: boolean },
): void {
  const name = normalizeMailboxName(a.name);
  const exists = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!exists) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  if (a.subscribed) {
    ctx.sql.get("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)").run(
      a.accountId,
      name,
    );
  } else {
    ctx.sql.get("DELETE FROM subscriptions WHERE account_id = ? AND name = ?").run(
      a.accountId,
      name,
    );
  }
  mailboxChanged(ctx, a.accountId);
}
