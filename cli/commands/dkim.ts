/** `dkim generate DOMAIN [--selector S] [--force]`: create a DKIM key, print its TXT record. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { generateDkim } from "../../core/admin/dkim.ts";

export const usage = "dkim generate DOMAIN [--selector S] [--force]";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (sub !== "generate") {
    throw new UsageError(`dkim: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
  const key = await generateDkim(await ctx.admin(), name, {
    selector: ctx.args.values.get("--selector"),
    force: ctx.args.booleans.has("--force"),
  });
  ctx.print(`wrote ${key.path}`);
  ctx.print(`Publish this DNS record, then outbound mail from ${key.domain} is signed:`);
  ctx.print(key.record);
}
