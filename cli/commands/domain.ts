/** `domain add|remove|list` */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain } from "../validate.ts";

export const usage = "domain add DOMAIN | domain remove DOMAIN | domain list";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const store = await ctx.store();
  switch (sub) {
    case "add": {
      const d = checkDomain(requireArg(name, "DOMAIN"));
      await store.addDomain(d);
      ctx.print(`added domain ${d}`);
      return;
    }
    case "remove": {
      const d = checkDomain(requireArg(name, "DOMAIN"));
      await store.removeDomain(d);
      ctx.print(`removed domain ${d}`);
      return;
    }
    case "list":
      for (const d of await store.listDomains()) ctx.print(d.name);
      return;
    default:
      throw new UsageError(`domain: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}

export function requireArg(v: string | undefined, name: string): string {
  if (v === undefined || v === "") throw new UsageError(`missing argument ${name}`);
  return v;
}
