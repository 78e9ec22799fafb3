/**
 * `dns DOMAIN`: print the DNS records to publish for a mail domain.
 * `dns check DOMAIN`: look each up through the configured resolver; one line per record,
 * `OK|MISSING|WRONG NAME TYPE VALUE` (VALUE: what to publish); exit 1 when any is not OK.
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomainDns, domainRecords } from "../../core/admin/domains.ts";
import { checkLine } from "../../core/admin/dns_check.ts";
import { readCertInUse } from "../../core/admin/dns_records.ts";

export const usage = "dns DOMAIN | dns check DOMAIN";

export async function run(ctx: CliContext): Promise<void> {
  const check = ctx.args.positional[0] === "check";
  const [name, ...extra] = ctx.args.positional.slice(check ? 1 : 0);
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const config = await ctx.config();
  const admin = {
    hostname: config.hostname,
    dataDir: config.dataDir,
    certPem: () => readCertInUse(config),
    dns: config.dns,
    mtaSts: config.mtaSts,
  };
  if (!check) {
    const r = await domainRecords(admin, name);
    ctx.print(`; DNS records for ${r.domain} (mail server ${admin.hostname})`);
    for (const line of r.zone) ctx.print(line);
    return;
  }
  const r = await checkDomainDns(admin, name);
  for (const c of r.checks) {
    ctx.print(checkLine(c) + (c.error ? `  ; lookup failed: ${c.error}` : ""));
  }
  for (const n of r.notes) ctx.print(`; ${n}`);
  const bad = r.checks.filter((c) => c.status !== "ok").length;
  if (bad > 0) throw new Error(`${bad} of ${r.checks.length} records are not as they should be`);
}
