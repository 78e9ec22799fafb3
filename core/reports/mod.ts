/**
 * The daily report run (TLS-RPT and DMARC aggregate) and its schedule: `serve` checks every
 * hour and sends the reports of finished UTC days; `deno task cli reports send --now` sends
 * every pending report at once, today's included (for tests and impatient admins).
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { DnsResolver } from "../dns.ts";
import { log } from "../../lib/log.ts";
import type { ReportSendDeps } from "./mail.ts";
import { sendTlsReports } from "./tlsrpt.ts";
import { sendDmarcReports } from "./dmarc_aggregate.ts";

export interface ReportRunDeps extends ReportSendDeps {
  config: Config;
  dns: DnsResolver;
}

/** What one run sent. */
export interface ReportRun {
  tlsrpt: Array<{ domain: string; day: string; to: string[] }>;
  dmarc: Array<{ domain: string; day: string; to: string[] }>;
}

/** Sends the reports the config enables (`includeToday`: today's partial day too). */
export async function sendReports(d: ReportRunDeps, includeToday = false): Promise<ReportRun> {
  return {
    tlsrpt: d.config.reports.tlsRpt ? await sendTlsReports(d, { includeToday }) : [],
    dmarc: d.config.reports.dmarcAggregate ? await sendDmarcReports(d, { includeToday }) : [],
  };
}

/** How often serve looks for finished days. */
export const REPORT_CHECK_MS = 3_600_000;

/** Starts the hourly check; returns a stop function. Nothing runs when no report is on. */
export function scheduleReports(d: ReportRunDeps, everyMs = REPORT_CHECK_MS): () => void {
  if (!d.config.reports.tlsRpt && !d.config.reports.dmarcAggregate) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sendReports(d)
      .catch((e) => log.error("reports", "report run failed", { error: (e as Error).message }))
      .finally(() => running = false);
  }, everyMs);
  return () => clearInterval(timer);
}
