/** `alias add SOURCE TARGET[,TARGET...] | remove SOURCE | list` (core/admin/aliases.ts). */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { listAliases, removeAlias, setAlias } from "../../core/admin/aliases.ts";

export const usage = "alias add SOURCE TARGET[,TARGET...] | alias remove SOURCE | alias list";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, source, targets, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const admin = await ctx.admin();
  switch (sub) {
    case "add": {
      const a = await setAlias(admin, source, targets);
      ctx.print(`alias ${a.source} -> ${a.targets.join(", ")}`);
      return;
    }
    case "remove": {
      if (targets !== undefined) throw new UsageError(`unexpected argument ${targets}`);
      ctx.print(`removed alias ${await removeAlias(admin, source)}`);
      return;
    }
    case "list":
      for (const a of await listAliases(admin)) ctx.print(`${a.source}\t${a.targets.join(",")}`);
      return;
    default:
      throw new UsageError(`alias: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
