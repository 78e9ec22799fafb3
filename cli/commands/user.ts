/** `user add|passwd|remove|list`, `user key set|show|remove` */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress, likelyTypoOf } from "../validate.ts";
import { checkPassword, promptPassword, readPasswordLine } from "../password.ts";
import { hashPassword } from "../../core/auth.ts";
import { requireArg } from "./domain.ts";
import { kvNamespace } from "../../plugins/engine/services.ts";
import {
  checkPublicKey,
  describeKey,
  KeyError,
  kvKeyFor,
  readStoredKey,
} from "../../plugins/builtin/encrypt/keys.ts";
import { domainPart } from "../../mime/address.ts";

export const usage =
  "user add EMAIL [--password-stdin] [--create-domain] | user passwd EMAIL [--password-stdin] | user remove EMAIL | user list\n" +
  "  user key set EMAIL FILE.asc | user key show EMAIL | user key remove EMAIL\n" +
  "  user quota EMAIL SIZE|none   (SIZE in bytes, or with K, M, G: 500M)";

async function password(ctx: CliContext): Promise<string> {
  const pw = ctx.args.booleans.has("--password-stdin")
    ? await readPasswordLine()
    : await promptPassword();
  checkPassword(pw);
  return pw;
}

export async function run(ctx: CliContext): Promise<void> {
  if (ctx.args.positional[0] === "key") return await runKey(ctx);
  if (ctx.args.positional[0] === "quota") return await runQuota(ctx);
  const [sub, email, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  switch (sub) {
    case "add": {
      const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
      const store = await ctx.store();
      if (await store.getAccount(addr)) throw new UsageError(`user ${addr} already exists`);
      // A new domain is added with the user (CONTRACT), but never silently, and a likely
      // typo of a known domain is refused unless --create-domain says it is meant.
      const domain = domainPart(addr);
      const known = (await store.listDomains()).map((d) => d.name);
      const newDomain = !known.includes(domain);
      const near = newDomain ? likelyTypoOf(domain, known) : undefined;
      if (near && !ctx.args.booleans.has("--create-domain")) {
        throw new UsageError(
          `EMAIL: domain ${domain} is not known; did you mean ${near}? ` +
            `use --create-domain to add it anyway`,
        );
      }
      const hash = await hashPassword(await password(ctx));
      await store.createAccount(addr, hash);
      if (newDomain) console.error(`denomail: added domain ${domain} (it was not known)`);
      ctx.print(`added user ${addr}`);
      return;
    }
    case "passwd": {
      const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
      const store = await ctx.store();
      if (!(await store.getAccount(addr))) throw new UsageError(`no such user ${addr}`);
      await store.setPasswordHash(addr, await hashPassword(await password(ctx)));
      ctx.print(`password changed for ${addr}`);
      return;
    }
    case "remove": {
      const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
      const store = await ctx.store();
      if (!(await store.getAccount(addr))) throw new UsageError(`no such user ${addr}`);
      await store.removeAccount(addr);
      ctx.print(`removed user ${addr}`);
      return;
    }
    case "list": {
      const store = await ctx.store();
      for (const a of await store.listAccounts()) ctx.print(a.email);
      return;
    }
    default:
      throw new UsageError(`user: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}

/** "1048576", "500K", "500M", "2G" (1024-based) -> bytes; "none" -> null (no limit). */
export function parseQuotaSize(text: string): number | null {
  if (text.toLowerCase() === "none") return null;
  const m = /^(\d+)([KMG]?)B?$/i.exec(text);
  const scale: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const n = m ? Number(m[1]) * scale[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`SIZE must be a number of bytes (or with K, M, G) or "none", not ${text}`);
  }
  return n;
}

/** `user quota EMAIL SIZE|none`: the account's storage limit (IMAP QUOTA, RFC 9208). */
async function runQuota(ctx: CliContext): Promise<void> {
  const [, email, size, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
  const bytes = parseQuotaSize(requireArg(size, "SIZE"));
  const store = await ctx.store();
  if (!(await store.getAccount(addr))) throw new UsageError(`no such user ${addr}`);
  await store.setQuota(addr, bytes);
  ctx.print(bytes === null ? `no quota for ${addr}` : `quota for ${addr}: ${bytes} bytes`);
}

/**
 * The kv namespace of the encrypt plugin: that of the configured `builtin:encrypt` (under
 * whatever name), else `plugin:encrypt`.
 */
async function keyNamespace(ctx: CliContext): Promise<string> {
  const p = (await ctx.config()).plugins.find((p) => p.module === "builtin:encrypt");
  return kvNamespace(p?.name ?? "encrypt");
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
