/**
 * `reports send [--now]`: sends the pending TLS-RPT and DMARC aggregate reports of finished
 * days (with --now, today's counts so far too) into the queue; `dmarc report [--domain D]`:
 * the DMARC reports received for our domains (core/reports/).
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { sendReports } from "../../core/reports/mod.ts";
import { dmarcSummary } from "../../core/reports/dmarc_ingest.ts";
import { createResolver } from "../../core/dns.ts";
import { Router } from "../../core/router.ts";

export const usage = "reports send [--now]";
export const dmarcUsage = "dmarc report [--domain DOMAIN]";

export async function run(ctx: CliContext): Promise<void> {
  const [sub, ...extra] = ctx.args.positional;
  if (sub !== "send") {
    throw new UsageError(`reports: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const config = await ctx.config();
  if (!config.reports.tlsRpt && !config.reports.dmarcAggregate) {
    ctx.print("no reports enabled ([reports] tls_rpt, dmarc_aggregate)");
    return;
  }
  const store = await ctx.store();
  const run = await sendReports({
    config,
    store,
    router: new Router(store),
    dns: createResolver(config.dns),
    now: Date.now,
  }, ctx.args.booleans.has("--now"));
  for (const [kind, sent] of Object.entries(run)) {
    for (const s of sent) ctx.print(`${kind}\t${s.day}\t${s.domain}\t${s.to.join(",")}`);
  }
  const n = run.tlsrpt.length + run.dmarc.length;
  ctx.print(`${n} report${n === 1 ? "" : "s"} queued`);
}

export async function runDmarc(ctx: CliContext): Promise<void> {
  const [sub, ...extra] = ctx.args.positional;
  if (sub !== "report") {
    throw new UsageError(`dmarc: unknown subcommand ${sub ?? "(none)"}; use ${dmarcUsage}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const domain = ctx.args.values.get("--domain");
  const all = await dmarcSummary(await ctx.store(), domain);
  if (all.length === 0) {
    ctx.print(domain ? `no DMARC reports received for ${domain}` : "no DMARC reports received");
    return;
  }
  for (const s of all) {
    ctx.print(
      `${s.domain}\treports=${s.reports}\tmessages=${s.messages}\tpass=${s.pass}\tfail=${s.fail}\t${s.firstDay}..${s.lastDay}`,
    );
    for (const src of s.sources) {
      ctx.print(`  ${src.ip}\tmessages=${src.messages}\tfail=${src.fail}\t${src.orgs.join(",")}`);
    }
  }
}
