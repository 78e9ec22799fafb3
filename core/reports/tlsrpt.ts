/**
 * TLS-RPT (RFC 8460): counts successful and failed TLS sessions per policy domain and UTC
 * day (kept in the store's kv area), and sends each finished day's report — the §4.4 JSON,
 * gzip'd — to the `rua=mailto:` of the domain's `_smtp._tls` TXT record (§3), in the §5.3
 * mail format, through our own queue.
 *
 * Counting is serialised within the process (one read-modify-write at a time); two
 * processes counting at once (a cluster) may lose increments — reports are estimates.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { DnsError, type DnsResolver } from "../dns.ts";
import { log } from "../../lib/log.ts";
import { DayStore } from "./day_store.ts";
import {
  buildReportMail,
  dayRange,
  gzip,
  type ReportSendDeps,
  ruaMailtos,
  submitReport,
  utcDay,
} from "./mail.ts";

/** RFC 8460 §4.3 result types (§4.3.1 negotiation, §4.3.2 policy failures). */
export type TlsResultType =
  | "starttls-not-supported"
  | "certificate-host-mismatch"
  | "certificate-expired"
  | "certificate-not-trusted"
  | "validation-failure"
  | "tlsa-invalid"
  | "dnssec-invalid"
  | "dane-required"
  | "sts-policy-fetch-error"
  | "sts-policy-invalid"
  | "sts-webpki-invalid";

/** The policy a session was judged by (RFC 8460 §4.4 "policy"). */
export interface ReportedPolicy {
  type: "sts" | "tlsa" | "no-policy-found";
  domain: string;
  strings: string[];
  mxHost?: string[];
}

/** One session's outcome. */
export interface TlsEvent {
  policy: ReportedPolicy;
  /** null: a successful session. */
  failure: null | {
    result: TlsResultType;
    receivingMx?: string;
    receivingIp?: string;
    reasonCode?: string;
  };
}

interface Detail {
  result: TlsResultType;
  mx: string;
  ip: string;
  reason: string;
  count: number;
}
interface PolicyCounts {
  policy: ReportedPolicy;
  success: number;
  failure: number;
  details: Detail[];
}

/** Failure details kept per policy and day (bounded memory and report size). */
const MAX_DETAILS = 100;

function policyKey(p: ReportedPolicy): string {
  return JSON.stringify([p.type, p.strings, p.mxHost ?? []]);
}

/** The kv area of TLS-RPT counts. */
export function tlsRptDays(store: ReportSendDeps["store"]): DayStore<PolicyCounts[]> {
  return new DayStore<PolicyCounts[]>(store, "denomail:tlsrpt");
}

/** Adds sessions to the day's counts. */
export class TlsRptRecorder {
  #days: DayStore<PolicyCounts[]>;

  constructor(store: ReportSendDeps["store"], readonly now: () => number) {
    this.#days = tlsRptDays(store);
  }

  /** Counts one session (never throws; errors are logged). */
  record(ev: TlsEvent): Promise<void> {
    return this.#days.update(utcDay(this.now()), ev.policy.domain, (cur) => count(cur ?? [], ev))
      .catch((e) => log.warn("tlsrpt", "session not counted", { error: (e as Error).message }));
  }
}

function count(all: PolicyCounts[], ev: TlsEvent): PolicyCounts[] {
  let p = all.find((x) => policyKey(x.policy) === policyKey(ev.policy));
  if (!p) all.push(p = { policy: ev.policy, success: 0, failure: 0, details: [] });
  if (!ev.failure) {
    p.success++;
    return all;
  }
  p.failure++;
  const f = ev.failure;
  const d = p.details.find((x) =>
    x.result === f.result && x.mx === (f.receivingMx ?? "") && x.ip === (f.receivingIp ?? "")
  );
  if (d) d.count++;
  else if (p.details.length < MAX_DETAILS) {
    p.details.push({
      result: f.result,
      mx: f.receivingMx ?? "",
      ip: f.receivingIp ?? "",
      reason: f.reasonCode ?? "",
      count: 1,
    });
  }
  return all;
}

/** RFC 8460 §4.4: the report of one policy domain for one day. */
export function buildTlsReport(
  counts: PolicyCounts[],
  day: string,
  domain: string,
  opts: { orgName: string; contact: string; reportId: string },
): Record<string, unknown> {
  const [start, end] = dayRange(day);
  return {
    "organization-name": opts.orgName,
    "date-range": {
      "start-datetime": new Date(start).toISOString().replace(/\.\d{3}Z$/, "Z"),
      "end-datetime": new Date(end - 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    },
    "contact-info": opts.contact,
    "report-id": opts.reportId,
    policies: counts.map((c) => ({
      policy: {
        "policy-type": c.policy.type,
        ...(c.policy.type === "no-policy-found" ? {} : { "policy-string": c.policy.strings }),
        "policy-domain": domain,
        ...(c.policy.mxHost?.length ? { "mx-host": c.policy.mxHost } : {}),
      },
      summary: {
        "total-successful-session-count": c.success,
        "total-failure-session-count": c.failure,
      },
      ...(c.details.length
        ? {
          "failure-details": c.details.map((d) => ({
            "result-type": d.result,
            ...(d.ip ? { "receiving-ip": d.ip } : {}),
            ...(d.mx ? { "receiving-mx-hostname": d.mx } : {}),
            "failed-session-count": d.count,
            ...(d.reason ? { "failure-reason-code": d.reason } : {}),
          })),
        }
        : {}),
    })),
  };
}

/** What sending needs. */
export interface TlsRptSendDeps extends ReportSendDeps {
  config: Config;
  dns: DnsResolver;
}

/** The rua mailto: addresses of `_smtp._tls.<domain>` (RFC 8460 §3), [] when none. */
export async function tlsRptRua(dns: DnsResolver, domain: string): Promise<string[]> {
  let records: string[];
  try {
    records = await dns.txt(`_smtp._tls.${domain}`);
  } catch (e) {
    if (e instanceof DnsError && e.permanent) return [];
    throw e;
  }
  // §3: records not starting with "v=TLSRPTv1" are ignored; more than one: none is used.
  const ours = records.filter((r) => /^v=TLSRPTv1\s*(;|$)/.test(r));
  return ours.length === 1 ? ruaMailtos(ours[0]) : [];
}

/**
 * Sends the reports of every finished day (and today's too with `includeToday`); a day is
 * forgotten once sent, or when its domain publishes no rua. Returns the reports sent.
 */
export async function sendTlsReports(
  d: TlsRptSendDeps,
  opts: { includeToday?: boolean } = {},
): Promise<Array<{ domain: string; day: string; to: string[] }>> {
  const today = utcDay(d.now());
  const days = tlsRptDays(d.store);
  const sent: Array<{ domain: string; day: string; to: string[] }> = [];
  for (const { day, domain } of await days.entries()) {
    if (day > today || (day === today && !opts.includeToday)) continue;
    const counts = await days.get(day, domain);
    let to: string[] = [];
    try {
      to = counts ? await tlsRptRua(d.dns, domain) : [];
    } catch (e) {
      log.warn("tlsrpt", "rua lookup failed; will retry", { domain, error: (e as Error).message });
      continue;
    }
    if (counts && to.length > 0) {
      await sendOne(d, counts, day, domain, to);
      sent.push({ domain, day, to });
    }
    await days.drop(day, domain);
  }
  return sent;
}

async function sendOne(
  d: TlsRptSendDeps,
  counts: PolicyCounts[],
  day: string,
  domain: string,
  to: string[],
): Promise<void> {
  const { config } = d;
  const org = config.reports.orgName;
  const uid = crypto.randomUUID();
  const reportId = `${uid}@${config.hostname}`;
  const json = buildTlsReport(counts, day, domain, {
    orgName: org,
    contact: config.reports.from,
    reportId,
  });
  const [start, end] = dayRange(day);
  const data = await gzip(new TextEncoder().encode(JSON.stringify(json)));
  // RFC 8460 §5.3: subject and TLS-Report-* fields; §5.1: the file name.
  const message = buildReportMail({
    from: config.reports.from,
    to,
    subject: `Report Domain: ${domain} Submitter: ${org} Report-ID: <${reportId}>`,
    headers: [["TLS-Report-Domain", domain], ["TLS-Report-Submitter", org]],
    reportType: "tlsrpt",
    text: `This is an aggregate TLS report from ${org} for ${domain} on ${day}.`,
    attachment: {
      type: "application/tlsrpt+gzip",
      filename: `${org}!${domain}!${start / 1000}!${end / 1000 - 1}!${uid}.json.gz`,
      data,
    },
    now: d.now(),
    hostname: config.hostname,
  });
  await submitReport(d, config.reports.from, to, message);
  log.info("tlsrpt", "report sent", { domain, day, to: to.join(",") });
}
