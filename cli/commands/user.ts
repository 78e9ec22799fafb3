/** `user add|passwd|remove|list|quota|role` (core/admin/users.ts), `user key set|show|remove` */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress, requireArg } from "../../core/admin/validate.ts";
import { promptPassword, readPasswordLine } from "../password.ts";
import { encryptNamespace } from "../../core/admin/keys.ts";
import { createSignup } from "../../core/admin/signup.ts";
import {
  checkPublicKey,
  describeKey,
  KeyError,
  kvKeyFor,
  readStoredKey,
} from "../../plugins/builtin/encrypt/keys.ts";
import {
  addUser,
  listUsers,
  removeUser,
  setPassword,
  setQuota,
  setRole,
} from "../../core/admin/users.ts";

export const usage =
  "user add EMAIL [--password-stdin] [--create-domain] [--admin] | user passwd EMAIL [--password-stdin] | user remove EMAIL | user list\n" +
  "  user invite EMAIL [--admin] [--create-domain]   (prints a one-time sign-up link)\n" +
  "  user key set EMAIL FILE.asc | user key show EMAIL | user key remove EMAIL\n" +
  "  user quota EMAIL SIZE|none   (SIZE in bytes, or with K, M, G: 500M)\n" +
  "  user role EMAIL admin|user   (admins may use the admin API)";

/** The password: one line of stdin with --password-stdin, else a prompt. */
function password(ctx: CliContext): () => Promise<string> {
  return () => ctx.args.booleans.has("--password-stdin") ? readPasswordLine() : promptPassword();
}

export async function run(ctx: CliContext): Promise<void> {
  const sub0 = ctx.args.positional[0];
  if (sub0 !== "add" && sub0 !== "invite" && ctx.args.booleans.has("--admin")) {
    throw new UsageError("--admin: only for user add or invite (use user role EMAIL admin|user)");
  }
  if (ctx.args.positional[0] === "key") return await runKey(ctx);
  if (ctx.args.positional[0] === "quota") return await runQuota(ctx);
  if (ctx.args.positional[0] === "role") return await runRole(ctx);
  const [sub, email, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  switch (sub) {
    case "add": {
      const added = await addUser(await ctx.admin(), email, {
        password: password(ctx),
        createDomain: ctx.args.booleans.has("--create-domain"),
        admin: ctx.args.booleans.has("--admin"),
      });
      if (added.newDomain) {
        console.error(`denomail: added domain ${added.newDomain} (it was not known)`);
      }
      ctx.print(`added user ${added.email}${added.role === "admin" ? " (admin)" : ""}`);
      return;
    }
    case "invite": {
      const config = await ctx.config();
      const link = await createSignup(await ctx.admin(), email, {
        createDomain: ctx.args.booleans.has("--create-domain"),
        admin: ctx.args.booleans.has("--admin"),
      });
      ctx.print(`sign-up link for ${link.email} (one use, until ${link.expiresAt}):`);
      ctx.print(`https://${config.hostname}${link.path}`);
      return;
    }
    case "passwd":
      ctx.print(
        `password changed for ${await setPassword(await ctx.admin(), email, password(ctx))}`,
      );
      return;
    case "remove":
      ctx.print(`removed user ${await removeUser(await ctx.admin(), email)}`);
      return;
    case "list":
      for (const u of await listUsers(await ctx.admin())) ctx.print(u.email);
      return;
    default:
      throw new UsageError(`user: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}

/** `user quota EMAIL SIZE|none`: the account's storage limit (IMAP QUOTA, RFC 9208). */
async function runQuota(ctx: CliContext): Promise<void> {
  const [, email, size, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const q = await setQuota(await ctx.admin(), email, size);
  ctx.print(
    q.quotaBytes === null
      ? `no quota for ${q.email}`
      : `quota for ${q.email}: ${q.quotaBytes} bytes`,
  );
}

/** `user role EMAIL admin|user`: gives or takes the admin role. */
async function runRole(ctx: CliContext): Promise<void> {
  const [, email, role, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const r = await setRole(await ctx.admin(), email, role);
  ctx.print(`role of ${r.email}: ${r.role}`);
}

/**
 * The kv namespace of the encrypt plugin: that of the configured `builtin:encrypt` (under
 * whatever name), else `plugin:encrypt`.
 */
async function keyNamespace(ctx: CliContext): Promise<string> {
  return encryptNamespace((await ctx.config()).plugins);
}

/** `user key set EMAIL FILE | show EMAIL | remove EMAIL`: OpenPGP keys for builtin:encrypt. */
async function runKey(ctx: CliContext): Promise<void> {
  const [, sub, email, ...rest] = ctx.args.positional;
  if (sub !== "set" && sub !== "show" && sub !== "remove") {
    throw new UsageError(`user key: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
  const [file, ...extra] = sub === "set" ? rest : [undefined, ...rest];
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
  const path = sub === "set" ? requireArg(file, "FILE.asc") : "";
  const store = await ctx.store();
  if (!(await store.getAccount(addr))) throw new UsageError(`no such user ${addr}`);
  const ns = await keyNamespace(ctx);
  const stored = await store.kvGet(ns, kvKeyFor(addr));
  switch (sub) {
    case "set": {
      let data: Uint8Array;
      try {
        data = await Deno.readFile(path);
      } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
      }
      if (data.length > 1024 * 1024) throw new UsageError(`${path}: too large for a public key`);
      let checked;
      try {
        checked = await checkPublicKey(data, addr);
      } catch (e) {
        if (e instanceof KeyError) throw new UsageError(`${path}: ${e.message}`);
        throw e;
      }
      await store.kvSet(ns, kvKeyFor(addr), checked.armored);
      ctx.print(`key set for ${addr}: ${checked.info.fingerprint}`);
      return;
    }
    case "show": {
      if (!stored) throw new UsageError(`no key for ${addr}`);
      const info = await describeKey(await readStoredKey(stored));
      ctx.print(`fingerprint: ${info.fingerprint}`);
      ctx.print(`algorithm: ${info.algorithm}`);
      for (const u of info.userIds) ctx.print(`user id: ${u}`);
      ctx.print(`created: ${info.created.toISOString()}`);
      ctx.print(`expires: ${info.expires ? info.expires.toISOString() : "never"}`);
      ctx.print(stored.trimEnd());
      return;
    }
    case "remove":
      if (!stored) throw new UsageError(`no key for ${addr}`);
      await store.kvDelete(ns, kvKeyFor(addr));
      ctx.print(`key removed for ${addr}`);
      return;
  }
}
