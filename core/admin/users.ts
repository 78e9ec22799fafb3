/**
 * User operations (CLI `user add|passwd|remove|list|quota|role`; API `/api/admin/users`).
 *
 * The password comes through a callback so the CLI can prompt only after the address passed
 * every check (nobody types a password for a command that then fails); the API passes the
 * body's. Passwords are never written to the audit log.
 *
 * @module
 */
import { hashPassword } from "../auth.ts";
import { domainPart } from "../../mime/address.ts";
import { type AdminContext, audit } from "./context.ts";
import { type KeyStatus, keyStatus } from "./keys.ts";
import { UsageError } from "./errors.ts";
import {
  checkAddress,
  checkPassword,
  likelyTypoOf,
  parseQuotaSize,
  parseRole,
  requireArg,
  type Role,
} from "./validate.ts";

export interface UserInfo {
  email: string;
  role: Role;
  /** null: no limit. */
  quotaBytes: number | null;
  usageBytes: number;
  createdAt: number;
  /** The OpenPGP key kept for encryption at rest, or null. */
  key: KeyStatus | null;
}

export async function listUsers(ctx: AdminContext): Promise<UserInfo[]> {
  const admins = new Set(await ctx.store.listAdmins());
  const out: UserInfo[] = [];
  for (const a of await ctx.store.listAccounts()) {
    out.push({
      email: a.email,
      role: admins.has(a.email) ? "admin" : "user",
      quotaBytes: a.quotaBytes,
      usageBytes: await ctx.store.accountUsage(a.id),
      createdAt: a.createdAt,
      key: await keyStatus(ctx.store, ctx.keyNamespace ?? "plugin:encrypt", a.email),
    });
  }
  return out;
}

/** The account's address, checked and known; UsageError "no such user" otherwise. */
async function existing(ctx: AdminContext, raw: string | undefined): Promise<string> {
  const addr = checkAddress(requireArg(raw, "EMAIL"), "EMAIL");
  if (!(await ctx.store.getAccount(addr))) {
    throw new UsageError(`no such user ${addr}`, "not_found");
  }
  return addr;
}

async function checkedHash(password: () => Promise<string>): Promise<string> {
  const pw = await password();
  checkPassword(pw);
  return await hashPassword(pw);
}

/**
 * The checks of a new account: a valid address, not taken, and a domain that is known or
 * clearly meant (`createDomain`), not a likely typo of a known one.
 */
export async function checkNewUser(
  ctx: AdminContext,
  raw: string | undefined,
  createDomain?: boolean,
): Promise<{ email: string; domain: string; newDomain: boolean }> {
  const addr = checkAddress(requireArg(raw, "EMAIL"), "EMAIL");
  if (await ctx.store.getAccount(addr)) {
    throw new UsageError(`user ${addr} already exists`, "exists");
  }
  const domain = domainPart(addr);
  const known = (await ctx.store.listDomains()).map((d) => d.name);
  const newDomain = !known.includes(domain);
  const near = newDomain ? likelyTypoOf(domain, known) : undefined;
  if (near && !createDomain) {
    throw new UsageError(
      `EMAIL: domain ${domain} is not known; did you mean ${near}? ` +
        `use --create-domain to add it anyway`,
    );
  }
  return { email: addr, domain, newDomain };
}

/**
 * Creates the account. A new domain is added with the user (CONTRACT), but a likely typo of
 * a known domain is refused unless `createDomain` says it is meant.
 */
export async function addUser(
  ctx: AdminContext,
  raw: string | undefined,
  opts: { password: () => Promise<string>; createDomain?: boolean; admin?: boolean },
): Promise<{ email: string; newDomain: string | null; role: Role }> {
  const { email: addr, domain, newDomain } = await checkNewUser(ctx, raw, opts.createDomain);
  const hash = await checkedHash(opts.password);
  await ctx.store.createAccount(addr, hash);
  if (opts.admin) await ctx.store.setAdmin(addr, true);
  const role: Role = opts.admin ? "admin" : "user";
  await audit(ctx, "user.add", addr, { role, ...(newDomain ? { newDomain: domain } : {}) });
  return { email: addr, newDomain: newDomain ? domain : null, role };
}

export async function setPassword(
  ctx: AdminContext,
  raw: string | undefined,
  password: () => Promise<string>,
): Promise<string> {
  const addr = await existing(ctx, raw);
  await ctx.store.setPasswordHash(addr, await checkedHash(password));
  await audit(ctx, "user.passwd", addr);
  return addr;
}

export async function removeUser(ctx: AdminContext, raw: string | undefined): Promise<string> {
  const addr = await existing(ctx, raw);
  await ctx.store.removeAccount(addr);
  await audit(ctx, "user.remove", addr);
  return addr;
}

/** Sets the storage limit from "SIZE" ("500M", bytes) or "none". */
export async function setQuota(
  ctx: AdminContext,
  raw: string | undefined,
  size: string | undefined,
): Promise<{ email: string; quotaBytes: number | null }> {
  const addr = checkAddress(requireArg(raw, "EMAIL"), "EMAIL");
  const quotaBytes = parseQuotaSize(requireArg(size, "SIZE"));
  await existing(ctx, addr);
  await ctx.store.setQuota(addr, quotaBytes);
  await audit(ctx, "user.quota", addr, { quotaBytes });
  return { email: addr, quotaBytes };
}

export async function setRole(
  ctx: AdminContext,
  raw: string | undefined,
  roleText: string | undefined,
): Promise<{ email: string; role: Role }> {
  const addr = checkAddress(requireArg(raw, "EMAIL"), "EMAIL");
  const role = parseRole(roleText);
  await existing(ctx, addr);
  await ctx.store.setAdmin(addr, role === "admin");
  await audit(ctx, "user.role", addr, { role });
  return { email: addr, role };
}
