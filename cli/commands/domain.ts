/** `domain add|remove|list` (the operations: core/admin/domains.ts). */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { addDomain, listDomains, removeDomain } from "../../core/admin/domains.ts";

export const usage = "domain add DOMAIN | domain remove DOMAIN | domain list";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const admin = await ctx.admin();
  switch (sub) {
    case "add":
      ctx.print(`added domain ${await addDomain(admin, name)}`);
      return;
    case "remove":
      ctx.print(`removed domain ${await removeDomain(admin, name)}`);
      return;
    case "list":
      for (const d of await listDomains(admin)) ctx.print(d.name);
      return;
    default:
      throw new UsageError(`domain: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
