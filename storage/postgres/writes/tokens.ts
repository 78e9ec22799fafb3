/**
 * Writes on JMAP bearer tokens (the `api_tokens` table, migration 2 in ../schema.ts).
 *
 * Invariants (as on SQLite, storage/sqlite/tokens.ts):
 * - Only the SHA-256 of a token is stored (`token_hash`, unique); the token itself is shown
 *   once by the CLI and never written anywhere.
 * - A token belongs to one account and disappears with it (ON DELETE CASCADE).
 *
 * @module
 */
import { type ApiToken, StoreError } from "../../mod.ts";
import { API_TOKEN_COLUMNS, toApiToken } from "../rows.ts";
import { q, q1, type WriteContext } from "./context.ts";

/** Longest token name kept (names are labels an admin types). */
const MAX_NAME = 200;

export async function createApiToken(
  ctx: WriteContext,
  a: { accountId: number; name: string; tokenHash: string },
): Promise<ApiToken> {
  if (!/^[0-9a-f]{64}$/.test(a.tokenHash)) {
    throw new StoreError("invalid", "a token hash is 64 hex digits (SHA-256)");
  }
  if (a.name.length > MAX_NAME) throw new StoreError("invalid", "token name too long");
  // PostgreSQL text holds no NUL: refused, not silently changed.
  if (a.name.includes("\u0000")) throw new StoreError("invalid", "token name holds NUL");
  const owner = await q1(ctx, "SELECT 1 AS x FROM accounts WHERE id = $1", [a.accountId]);
  if (!owner) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  // ON CONFLICT: a hash raced in by another writer gets the same answer as one found here.
  const r = await q1(
    ctx,
    `INSERT INTO api_tokens (account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (token_hash) DO NOTHING RETURNING ${API_TOKEN_COLUMNS}`,
    [a.accountId, a.name, a.tokenHash, ctx.now()],
  );
  if (!r) throw new StoreError("exists", "a token with this hash exists");
  return toApiToken(r);
}

export async function revokeApiToken(ctx: WriteContext, a: { id: number }): Promise<boolean> {
  return (await q(ctx, "DELETE FROM api_tokens WHERE id = $1 RETURNING id", [a.id])).length > 0;
}
