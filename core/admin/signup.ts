/**
 * One-time sign-up links (CLI `user invite EMAIL`; API `POST /api/admin/users/invite`): an
 * admin names the address, the person opens `/signup/TOKEN` and chooses the password, and
 * the account is created by the same `addUser` (same rules, same messages) as `user add`.
 *
 * Invariants:
 * - Only the token's SHA-256 is stored (kv namespace `admin:signup`, with the expiry as the
 *   entry's TTL); the token itself is shown once.
 * - A link creates one account at most: it is claimed with an atomic kv counter before the
 *   account is made, so two tabs racing on one link cannot both succeed. The password's
 *   rule is checked before the claim, so a too-short password does not use the link up.
 *
 * @module
 */
import { hashApiToken, looksLikeApiToken, newApiToken } from "../auth/api_token.ts";
import { type AdminContext, audit } from "./context.ts";
import { UsageError } from "./errors.ts";
import { addUser, checkNewUser } from "./users.ts";
import { checkPassword } from "./validate.ts";

const NS = "admin:signup";
const CLAIMS = "admin:signup-claimed";
/** How long a link works. */
export const SIGNUP_TTL_MS = 7 * 86_400_000;

interface Invite {
  email: string;
  admin: boolean;
  createDomain: boolean;
  expiresAt: number;
}

const GONE = "this sign-up link is unknown, already used or expired";

/** Creates a link for `email` (who must not exist yet); returns the token, shown once. */
export async function createSignup(
  ctx: AdminContext,
  raw: string | undefined,
  opts: { admin?: boolean; createDomain?: boolean } = {},
): Promise<{ email: string; token: string; path: string; expiresAt: string }> {
  const { email } = await checkNewUser(ctx, raw, opts.createDomain);
  const token = newApiToken();
  const expiresAt = Date.now() + SIGNUP_TTL_MS;
  const invite: Invite = {
    email,
    admin: !!opts.admin,
    createDomain: !!opts.createDomain,
    expiresAt,
  };
  await ctx.store.kvSet(NS, hashApiToken(token), JSON.stringify(invite), SIGNUP_TTL_MS);
  await audit(ctx, "user.invite", email, { role: invite.admin ? "admin" : "user", expiresAt });
  return { email, token, path: `/signup/${token}`, expiresAt: new Date(expiresAt).toISOString() };
}

async function findInvite(ctx: Pick<AdminContext, "store">, token: string): Promise<Invite> {
  if (!looksLikeApiToken(token)) throw new UsageError(GONE, "not_found");
  const raw = await ctx.store.kvGet(NS, hashApiToken(token));
  const invite = raw ? JSON.parse(raw) as Invite : null;
  if (!invite || invite.expiresAt <= Date.now()) throw new UsageError(GONE, "not_found");
  return invite;
}

/** The address a link is for (the page shows it); UsageError "not_found" when unusable. */
export async function signupAddress(
  ctx: Pick<AdminContext, "store">,
  token: string,
): Promise<{ email: string; expiresAt: string }> {
  const invite = await findInvite(ctx, token);
  return { email: invite.email, expiresAt: new Date(invite.expiresAt).toISOString() };
}

/** Creates the account with the chosen password; the link is used up. Audited as the new user. */
export async function completeSignup(
  ctx: AdminContext,
  token: string,
  password: string,
): Promise<{ email: string }> {
  const invite = await findInvite(ctx, token);
  checkPassword(password);
  const hash = hashApiToken(token);
  if (await ctx.store.kvIncr(CLAIMS, hash, 1, SIGNUP_TTL_MS) !== 1) {
    throw new UsageError(GONE, "not_found");
  }
  await ctx.store.kvDelete(NS, hash);
  const done = await addUser({ ...ctx, actor: { ...ctx.actor, who: invite.email } }, invite.email, {
    password: () => Promise.resolve(password),
    admin: invite.admin,
    // The admin already agreed to a new domain when making the link.
    createDomain: true,
  });
  return { email: done.email };
}
