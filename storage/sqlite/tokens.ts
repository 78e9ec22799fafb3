/**
 * JMAP bearer tokens in SQLite: the schema migration, the writes and the row mapping.
 *
 * Invariants:
 * - Only the SHA-256 of a token is stored (`token_hash`, unique); the token itself is shown
 *   once by the CLI and never written anywhere.
 * - A token belongs to one account and disappears with it (ON DELETE CASCADE).
 *
 * @module
 */
import { type ApiToken, StoreError } from "../mod.ts";
import type { WriteContext } from "./writes/context.ts";

/** Migration: the `api_tokens` table. */
export const API_TOKENS_MIGRATION = `
  CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX api_tokens_account ON api_tokens(account_id);
`;

export { API_TOKEN_COLUMNS, toApiToken } from "../rows.ts";

/** Longest token name kept (names are labels an admin types). */
const MAX_NAME = 200;

export function createApiToken(
  ctx: WriteContext,
  a: { accountId: number; name: string; tokenHash: string },
): ApiToken {
  if (!/^[0-9a-f]{64}$/.test(a.tokenHash)) {
    throw new StoreError("invalid", "a token hash is 64 hex digits (SHA-256)");
  }
  if (a.name.length > MAX_NAME) throw new StoreError("invalid", "token name too long");
  const owner = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!owner) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  if (ctx.sql.get("SELECT 1 AS x FROM api_tokens WHERE token_hash = ?").get(a.tokenHash)) {
    throw new StoreError("exists", "a token with this hash exists");
  }
  const createdAt = ctx.now();
  const r = ctx.sql.get(
    "INSERT INTO api_tokens (account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
  ).run(a.accountId, a.name, a.tokenHash, createdAt);
  return { id: Number(r.lastInsertRowid), accountId: a.accountId, name: a.name, createdAt };
}

export function revokeApiToken(ctx: WriteContext, a: { id: number }): boolean {
  return Number(ctx.sql.get("DELETE FROM api_tokens WHERE id = ?").run(a.id).changes) > 0;
}

/** The token writes, merged into `WRITES` (writes.ts). */
export const TOKEN_WRITES = { createApiToken, revokeApiToken } as const;
