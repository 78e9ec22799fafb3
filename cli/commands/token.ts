/**
 * `token create EMAIL [--name N] | list EMAIL | revoke ID`: JMAP bearer tokens
 * (`Authorization: Bearer TOKEN`), so a web page or a mail program never keeps a password.
 *
 * The token is printed once, at creation; storage keeps only its SHA-256
 * (core/auth/api_token.ts), so a lost token is revoked and replaced, never recovered.
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress } from "../../core/admin/validate.ts";
import { requireArg } from "../../core/admin/validate.ts";
import { hashApiToken, newApiToken } from "../../core/auth/api_token.ts";

export const usage = "token create EMAIL [--name N] | token list EMAIL | token revoke ID";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, arg, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (sub !== "create" && ctx.args.values.has("--name")) {
    throw new UsageError("--name: only for token create");
  }
  switch (sub) {
    case "create": {
      const email = checkAddress(requireArg(arg, "EMAIL"), "EMAIL");
      const name = ctx.args.values.get("--name") ?? "";
      if (name.length > 200) throw new UsageError("--name: at most 200 characters");
      const store = await ctx.store();
      const account = await store.getAccount(email);
      if (!account) throw new UsageError(`no such user ${email}`);
      const token = newApiToken();
      const t = await store.createApiToken(account.id, name, hashApiToken(token));
      ctx.print(token);
      console.error(`token ${t.id} for ${account.email} created; it is shown only this once`);
      return;
    }
    case "list": {
      const email = checkAddress(requireArg(arg, "EMAIL"), "EMAIL");
      const store = await ctx.store();
      const account = await store.getAccount(email);
      if (!account) throw new UsageError(`no such user ${email}`);
      for (const t of await store.listApiTokens(account.id)) {
        ctx.print(`${t.id}\t${new Date(t.createdAt).toISOString()}\t${t.name}`);
      }
      return;
    }
    case "revoke": {
      const id = requireArg(arg, "ID");
      if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new UsageError(`ID: not a token id: ${id}`);
      const store = await ctx.store();
      if (!(await store.revokeApiToken(Number(id)))) throw new UsageError(`no such token ${id}`);
      ctx.print(`revoked token ${id}`);
      return;
    }
    default:
      throw new UsageError(`token: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
