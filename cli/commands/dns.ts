/** `dns DOMAIN`: print the DNS records to publish for a mail domain. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain, requireArg } from "../../core/admin/validate.ts";
import { dnsRecords } from "../../core/admin/dns_records.ts";

export const usage = "dns DOMAIN";

export async function run(ctx: CliContext): Promise<void> {
  const [name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const domain = checkDomain(requireArg(name, "DOMAIN"));
  const config = await ctx.config();
  ctx.print(`; DNS records for ${domain} (mail server ${config.hostname})`);
  for (const line of await dnsRecords(domain, config.hostname, config.dataDir)) ctx.print(line);
}
