/**
 * Writes on domains, accounts (with their default mailboxes) and aliases.
 *
 * @module
 */
import { type Account, DEFAULT_MAILBOXES, StoreError } from "../../mod.ts";
import { normalizeAliasSource, normalizeDomain, normalizeEmail } from "../../names.ts";
import { type Row } from "../rows.ts";
import { account, insertMailbox, mailboxChanged, type WriteContext } from "./context.ts";

export function addDomain(ctx: WriteContext, a: { name: string }): void {
  const name = normalizeDomain(a.name);
  const r = ctx.sql.get("INSERT OR IGNORE INTO domains (name, created_at) VALUES (?, ?)").run(
    name,
    ctx.now(),
  );
  if (r.changes === 0) throw new StoreError("exists", `domain already exists: ${name}`);
}

export function removeDomain(ctx: WriteContext, a: { name: string }): void {
  const name = normalizeDomain(a.name);
  const used = ctx.sql.get("SELECT count(*) AS n FROM accounts WHERE domain = ?").get(name) as Row;
  if ((used.n as number) > 0) {
    throw new StoreError("in_use", `domain ${name} still has ${used.n} account(s)`);
  }
  const r = ctx.sql.get("DELETE FROM domains WHERE name = ?").run(name);
  if (r.changes === 0) throw new StoreError("not_found", `no such domain: ${name}`);
}

export function createAccount(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): Account {
  const { email, domain } = normalizeEmail(a.email);
  if (typeof a.passwordHash !== "string") {
    throw new StoreError("invalid", "password hash must be a string");
  }
  const now = ctx.now();
  ctx.sql.get("INSERT OR IGNORE INTO domains (name, created_at) VALUES (?, ?)").run(domain, now);
  const r = ctx.sql.get(
    `INSERT OR IGNORE INTO accounts (email, domain, password_hash, created_at)
     VALUES (?, ?, ?, ?)`,
  ).run(email, domain, a.passwordHash, now);
  if (r.changes === 0) throw new StoreError("exists", `account already exists: ${email}`);
  const id = Number(r.lastInsertRowid);
  for (const [name, use] of DEFAULT_MAILBOXES) {
    insertMailbox(ctx, id, name, use);
    // Subscribed, so clients that show only subscribed folders show the defaults.
    ctx.sql.get("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)").run(
      id,
      name,
    );
  }
  mailboxChanged(ctx, id);
  return { id, email, passwordHash: a.passwordHash, quotaBytes: null, createdAt: now };
}

export function setPasswordHash(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): void {
  const acc = account(ctx, a.email);
  ctx.sql.get("UPDATE accounts SET password_hash = ? WHERE id = ?").run(a.passwordHash, acc.id);
}

export function removeAccount(ctx: WriteContext, a: { email: string }): void {
  const acc = account(ctx, a.email);
  // Cascades to mailboxes -> messages (blobs released by trigger), expunged, subscriptions.
  ctx.sql.get("DELETE FROM accounts WHERE id = ?").run(acc.id);
  mailboxChanged(ctx, acc.id);
}

export function setQuota(
  ctx: WriteContext,
  a: { email: string; quotaBytes: number | null },
): void {
  if (a.quotaBytes !== null && !(Number.isSafeInteger(a.quotaBytes) && a.quotaBytes >= 0)) {
    throw new StoreError("invalid", "quota must be a non-negative integer or null");
  }
  const acc = account(ctx, a.email);
  ctx.sql.get("UPDATE accounts SET quota_bytes = ? WHERE id = ?").run(a.quotaBytes, acc.id);
}

export function setAlias(ctx: WriteContext, a: { source: string; targets: string[] }): void {
  const source = normalizeAliasSource(a.source);
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "an alias needs at least one target");
  }
  const targets = [...new Set(a.targets.map((t) => normalizeEmail(t).email))];
  ctx.sql.get("INSERT OR REPLACE INTO aliases (source, targets) VALUES (?, ?)").run(
    source,
    JSON.stringify(targets),
  );
}

export function removeAlias(ctx: WriteContext, a: { source: string }): void {
  const source = normalizeAliasSource(a.source);
  const r = ctx.sql.get("DELETE FROM aliases WHERE source = ?").run(source);
  if (r.changes === 0) throw new StoreError("not_found", `no such alias: ${source}`);
}
