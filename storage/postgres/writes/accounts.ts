/**
 * Writes on domains, accounts (with their default mailboxes) and aliases.
 *
 * @module
 */
import { type Account, DEFAULT_MAILBOXES, StoreError } from "../../mod.ts";
import { normalizeAliasSource, normalizeDomain, normalizeEmail } from "../../names.ts";
import {
  account,
  insertMailbox,
  lockChangeLogs,
  mailboxChanged,
  q,
  q1,
  type WriteContext,
} from "./context.ts";

export async function addDomain(ctx: WriteContext, a: { name: string }): Promise<void> {
  const name = normalizeDomain(a.name);
  const r = await q(
    ctx,
    "INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING name",
    [name, ctx.now()],
  );
  if (r.length === 0) throw new StoreError("exists", `domain already exists: ${name}`);
}

export async function removeDomain(ctx: WriteContext, a: { name: string }): Promise<void> {
  const name = normalizeDomain(a.name);
  // Locked: an account created meanwhile in this domain waits, then fails on the foreign key.
  const d = await q1(ctx, "SELECT name FROM domains WHERE name = $1 FOR UPDATE", [name]);
  if (!d) throw new StoreError("not_found", `no such domain: ${name}`);
  const used = await q1(ctx, "SELECT count(*) AS n FROM accounts WHERE domain = $1", [name]);
  if ((used!.n as number) > 0) {
    throw new StoreError("in_use", `domain ${name} still has ${used!.n} account(s)`);
  }
  await q(ctx, "DELETE FROM domains WHERE name = $1", [name]);
}

export async function createAccount(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): Promise<Account> {
  const { email, domain } = normalizeEmail(a.email);
  if (typeof a.passwordHash !== "string") {
    throw new StoreError("invalid", "password hash must be a string");
  }
  const now = ctx.now();
  await q(
    ctx,
    "INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [domain, now],
  );
  const r = await q1(
    ctx,
    `INSERT INTO accounts (email, domain, password_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING id`,
    [email, domain, a.passwordHash, now],
  );
  if (!r) throw new StoreError("exists", `account already exists: ${email}`);
  const id = r.id as number;
  for (const [name, use] of DEFAULT_MAILBOXES) {
    await insertMailbox(ctx, id, name, use);
    // Subscribed, so clients that show only subscribed folders show the defaults.
    await q(
      ctx,
      "INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [id, name],
    );
  }
  mailboxChanged(ctx, id);
  return { id, email, passwordHash: a.passwordHash, quotaBytes: null, createdAt: now };
}

export async function setPasswordHash(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): Promise<void> {
  const acc = await account(ctx, a.email);
  await q(ctx, "UPDATE accounts SET password_hash = $1 WHERE id = $2", [a.passwordHash, acc.id]);
}

export async function removeAccount(ctx: WriteContext, a: { email: string }): Promise<void> {
  const acc = await account(ctx, a.email);
  await lockChangeLogs(ctx, [acc.id]); // before the cascade locks the mailbox rows
  // Cascades to mailboxes -> messages (blobs released by trigger), expunged, subscriptions.
  await q(ctx, "DELETE FROM accounts WHERE id = $1", [acc.id]);
  // Last: the cascade's triggers logged the mailboxes and messages it removed.
  await q(ctx, "DELETE FROM change_log WHERE account_id = $1", [acc.id]);
  mailboxChanged(ctx, acc.id);
}

export async function setQuota(
  ctx: WriteContext,
  a: { email: string; quotaBytes: number | null },
): Promise<void> {
  if (a.quotaBytes !== null && !(Number.isSafeInteger(a.quotaBytes) && a.quotaBytes >= 0)) {
    throw new StoreError("invalid", "quota must be a non-negative integer or null");
  }
  const acc = await account(ctx, a.email);
  await q(ctx, "UPDATE accounts SET quota_bytes = $1 WHERE id = $2", [a.quotaBytes, acc.id]);
}

export async function setAlias(
  ctx: WriteContext,
  a: { source: string; targets: string[] },
): Promise<void> {
  const source = normalizeAliasSource(a.source);
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "an alias needs at least one target");
  }
  const targets = [...new Set(a.targets.map((t) => normalizeEmail(t).email))];
  await q(
    ctx,
    `INSERT INTO aliases (source, targets) VALUES ($1, $2)
     ON CONFLICT (source) DO UPDATE SET targets = excluded.targets`,
    [source, JSON.stringify(targets)],
  );
}

export async function removeAlias(ctx: WriteContext, a: { source: string }): Promise<void> {
  const source = normalizeAliasSource(a.source);
  const r = await q(ctx, "DELETE FROM aliases WHERE source = $1 RETURNING source", [source]);
  if (r.length === 0) throw new StoreError("not_found", `no such alias: ${source}`);
}
