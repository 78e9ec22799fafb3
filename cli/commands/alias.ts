/** `alias add SOURCE TARGET[,TARGET...] | remove SOURCE | list` */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkAddress, checkAliasSource } from "../validate.ts";
import { requireArg } from "./domain.ts";
import { domainPart } from "../../mime/address.ts";

export const usage = "alias add SOURCE TARGET[,TARGET...] | alias remove SOURCE | alias list";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, source, targets, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const store = await ctx.store();
  switch (sub) {
    case "add": {
      const src = checkAliasSource(requireArg(source, "SOURCE"));
      const list = requireArg(targets, "TARGET").split(",").map((t) => t.trim()).filter((t) =>
        t !== ""
      ).map((t) => checkAddress(t, "TARGET"));
      if (list.length === 0) throw new UsageError("missing argument TARGET");
      const domain = domainPart(src);
      if (!(await store.hasDomain(domain))) await store.addDomain(domain);
      await store.setAlias(src, list);
      ctx.print(`alias ${src} -> ${list.join(", ")}`);
      return;
    }
    case "remove": {
      if (targets !== undefined) throw new UsageError(`unexpected argument ${targets}`);
      const src = checkAliasSource(requireArg(source, "SOURCE"));
      if (!(await store.getAlias(src))) throw new UsageError(`no such alias ${src}`);
      await store.removeAlias(src);
      ctx.print(`removed alias ${src}`);
      return;
    }
    case "list":
      for (const a of await store.listAliases()) ctx.print(`${a.source}\t${a.targets.join(",")}`);
      return;
    default:
      throw new UsageError(`alias: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
