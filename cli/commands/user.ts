/** `user add|passwd|remove|list` */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress } from "../validate.ts";
import { checkPassword, promptPassword, readPasswordLine } from "../password.ts";
import { hashPassword } from "../../core/auth.ts";
import { requireArg } from "./domain.ts";

export const usage =
  "user add EMAIL [--password-stdin] | user passwd EMAIL [--password-stdin] | user remove EMAIL | user list";

async function password(ctx: CliContext): Promise<string> {
  const pw = ctx.args.booleans.has("--password-stdin")
    ? await readPasswordLine()
    : await promptPassword();
  checkPassword(pw);
  return pw;
}

export async function run(ctx: CliContext): Promise<void> {
  const [sub, email, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  switch (sub) {
    case "add": {
      const addr = checkAddress(requireArg(email, "EMAIL"), "EMAIL");
      const hash = await hashPassword(await password(ctx));
      const store = await ctx.store();
      if (await store.getAccount(addr)) throw new UsageError(`user ${addr} already exists`);
      await store.createAccount(addr, hash);
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
