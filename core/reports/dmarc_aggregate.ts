/**
 * DMARC aggregate reports we send (RFC 7489 §7.2, the XML of Appendix C): what the auth
 * plugin found for each accepted (or DMARC-rejected) message is counted per policy domain
 * and UTC day — source IP, header From domain, disposition and the SPF/DKIM results — and
 * each finished day goes, gzip'd, to the `rua=mailto:` of the domain's DMARC record, once
 * an external destination has authorized it (§7.1).
 *
 * The auth plugin (plugins/builtin/auth) reports through its result note (results.ts:
 * "dmarc=fail policy=reject spfal=1 pdom=d dkimd=d ..."): no new permission, no new API.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { DnsError, type DnsResolver } from "../dns.ts";
import { log } from "../../lib/log.ts";
import { parseAuthNote } from "../../plugins/builtin/auth/results.ts";
import type { PluginResultSummary } from "../../plugins/sdk.ts";
import { parseMime } from "../../mime/parser.ts";
import { findField } from "../../mime/header.ts";
import { parseAddressList } from "../../mime/address.ts";
import { DayStore } from "./day_store.ts";
import { escapeXml } from "./xml.ts";
import {
  buildReportMail,
  dayRange,
  gzip,
  type ReportSendDeps,
  ruaMailtos,
  submitReport,
  utcDay,
} from "./mail.ts";

/** One row of the report (RFC 7489 Appendix C "RowType" + identifiers + auth_results). */
export interface DmarcRow {
  ip: string;
  headerFrom: string;
  disposition: "none" | "quarantine" | "reject";
  /** policy_evaluated: aligned pass or fail. */
  dkim: "pass" | "fail";
  spf: "pass" | "fail";
  /** auth_results. */
  dkimDomain: string;
  dkimResult: string;
  spfDomain: string;
  spfResult: string;
  count: number;
}

/** Rows kept per policy domain and day. */
const MAX_ROWS = 1000;

function days(store: ReportSendDeps["store"]): DayStore<DmarcRow[]> {
  return new DayStore<DmarcRow[]>(store, "denomail:dmarc-agg");
}

/** The header From domain of a message (lower case), or "". */
export function headerFromDomain(message: Uint8Array): string {
  const head = parseMime(message.subarray(0, Math.min(message.length, 256 * 1024)));
  const from = findField(head.headers, "from");
  const addr = from ? parseAddressList(from.value).find((a) => a.host) : undefined;
  return addr?.host?.toLowerCase() ?? "";
}

/** What one message contributes. */
export interface DmarcObservation {
  ip: string;
  /** The envelope sender ("" for the null sender) and HELO (SPF's identity then). */
  sender: string;
  helo?: string;
  message: Uint8Array;
  results: PluginResultSummary[];
  /** "reject" when a refusal came from DMARC; else from the auth note. */
  rejected?: boolean;
}

/** Counts one message when the auth plugin evaluated a DMARC policy for it. */
export async function observeDmarc(
  store: ReportSendDeps["store"],
  o: DmarcObservation,
  now: number,
): Promise<void> {
  const auth = o.results.map((r) => parseAuthNote(r.note)).find((s) => s !== null);
  if (!auth || (auth.dmarc !== "pass" && auth.dmarc !== "fail")) return;
  const headerFrom = headerFromDomain(o.message);
  const policyDomain = auth.policyDomain || headerFrom;
  if (!policyDomain) return;
  const dkimPass = auth.dkim === "pass" && auth.dkimAligned;
  const spfPass = auth.spf === "pass" && auth.spfAligned === true;
  const fail = auth.dmarc === "fail";
  const row: DmarcRow = {
    ip: o.ip,
    headerFrom,
    // RFC 7489 §6.6.4 / Appendix C DispositionType: what we did.
    disposition: o.rejected
      ? "reject"
      : fail && auth.policy === "quarantine"
      ? "quarantine"
      : "none",
    dkim: dkimPass ? "pass" : "fail",
    spf: spfPass ? "pass" : "fail",
    dkimDomain: auth.dkimDomain ?? "",
    dkimResult: auth.dkim,
    spfDomain: (o.sender.split("@")[1] ?? o.helo ?? "").toLowerCase(),
    spfResult: auth.spf,
    count: 1,
  };
  await days(store).update(utcDay(now), policyDomain, (cur) => {
    const rows = cur ?? [];
    const same = rows.find((r) =>
      r.ip === row.ip && r.headerFrom === row.headerFrom && r.disposition === row.disposition &&
      r.dkim === row.dkim && r.spf === row.spf && r.dkimDomain === row.dkimDomain &&
      r.dkimResult === row.dkimResult && r.spfDomain === row.spfDomain &&
      r.spfResult === row.spfResult
    );
    if (same) same.count++;
    else if (rows.length < MAX_ROWS) rows.push(row);
    return rows;
  });
}

/** The DMARC record's tags (RFC 7489 §6.3), lower-case names; null when none is published. */
export async function dmarcRecord(
  dns: DnsResolver,
  domain: string,
): Promise<Map<string, string> | null> {
  let records: string[];
  try {
    records = await dns.txt(`_dmarc.${domain}`);
  } catch (e) {
    if (e instanceof DnsError && e.permanent) return null;
    throw e;
  }
  const ours = records.filter((r) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(r));
  if (ours.length !== 1) return null;
  const tags = new Map<string, string>();
  for (const part of ours[0].split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

/**
 * RFC 7489 §7.1: a report address outside the policy domain must be authorized by
 * "<policy domain>._report._dmarc.<rua domain>" TXT starting "v=DMARC1".
 */
export async function ruaAuthorized(
  dns: DnsResolver,
  policyDomain: string,
  address: string,
): Promise<boolean> {
  const ruaDomain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  const pd = policyDomain.toLowerCase();
  if (ruaDomain === pd || ruaDomain.endsWith(`.${pd}`) || pd.endsWith(`.${ruaDomain}`)) {
    return true;
  }
  try {
    const txt = await dns.txt(`${pd}._report._dmarc.${ruaDomain}`);
    return txt.some((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t));
  } catch {
    return false;
  }
}

/** RFC 7489 Appendix C: the feedback document of one policy domain for one day. */
export function buildDmarcXml(
  rows: DmarcRow[],
  day: string,
  domain: string,
  policy: Map<string, string>,
  meta: { orgName: string; email: string; reportId: string },
): string {
  const [start, end] = dayRange(day);
  const e = escapeXml;
  const p = policy.get("p") ?? "none";
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<feedback>`,
    `  <version>1.0</version>`,
    `  <report_metadata>`,
    `    <org_name>${e(meta.orgName)}</org_name>`,
    `    <email>${e(meta.email)}</email>`,
    `    <report_id>${e(meta.reportId)}</report_id>`,
    `    <date_range><begin>${start / 1000}</begin><end>${end / 1000 - 1}</end></date_range>`,
    `  </report_metadata>`,
    `  <policy_published>`,
    `    <domain>${e(domain)}</domain>`,
    `    <adkim>${policy.get("adkim") === "s" ? "s" : "r"}</adkim>`,
    `    <aspf>${policy.get("aspf") === "s" ? "s" : "r"}</aspf>`,
    `    <p>${e(p)}</p>`,
    `    <sp>${e(policy.get("sp") ?? p)}</sp>`,
    `    <pct>${/^\d{1,3}$/.test(policy.get("pct") ?? "") ? policy.get("pct") : "100"}</pct>`,
    `  </policy_published>`,
  ];
  for (const r of rows) {
    lines.push(
      `  <record>`,
      `    <row>`,
      `      <source_ip>${e(r.ip)}</source_ip>`,
      `      <count>${r.count}</count>`,
      `      <policy_evaluated><disposition>${r.disposition}</disposition>` +
        `<dkim>${r.dkim}</dkim><spf>${r.spf}</spf></policy_evaluated>`,
      `    </row>`,
      `    <identifiers><header_from>${e(r.headerFrom)}</header_from></identifiers>`,
      `    <auth_results>`,
      ...(r.dkimDomain && r.dkimResult !== "none"
        ? [
          `      <dkim><domain>${e(r.dkimDomain)}</domain><result>${
            e(r.dkimResult)
          }</result></dkim>`,
        ]
        : []),
      `      <spf><domain>${e(r.spfDomain)}</domain><scope>mfrom</scope>` +
        `<result>${e(r.spfResult)}</result></spf>`,
      `    </auth_results>`,
      `  </record>`,
    );
  }
  lines.push(`</feedback>`, ``);
  return lines.join("\n");
}

/** What sending needs. */
export interface DmarcSendDeps extends ReportSendDeps {
  config: Config;
  dns: DnsResolver;
}

/** Sends every finished day's reports (today's too with `includeToday`). */
export async function sendDmarcReports(
  d: DmarcSendDeps,
  opts: { includeToday?: boolean } = {},
): Promise<Array<{ domain: string; day: string; to: string[] }>> {
  const today = utcDay(d.now());
  const store = days(d.store);
  const sent: Array<{ domain: string; day: string; to: string[] }> = [];
  for (const { day, domain } of await store.entries()) {
    if (day > today || (day === today && !opts.includeToday)) continue;
    const rows = await store.get(day, domain);
    let policy: Map<string, string> | null = null;
    const to: string[] = [];
    try {
      policy = rows ? await dmarcRecord(d.dns, domain) : null;
      for (const a of policy ? ruaMailtos(`rua=${policy.get("rua") ?? ""}`) : []) {
        if (await ruaAuthorized(d.dns, domain, a)) to.push(a);
        else log.warn("dmarc", "report address not authorized (RFC 7489 §7.1)", { domain, to: a });
      }
    } catch (e) {
      log.warn("dmarc", "policy lookup failed; will retry", {
        domain,
        error: (e as Error).message,
      });
      continue;
    }
    if (rows && policy && to.length > 0) {
      await sendOne(d, rows, day, domain, policy, to);
      sent.push({ domain, day, to });
    }
    await store.drop(day, domain);
  }
  return sent;
}

async function sendOne(
  d: DmarcSendDeps,
  rows: DmarcRow[],
  day: string,
  domain: string,
  policy: Map<string, string>,
  to: string[],
): Promise<void> {
  const { config } = d;
  const org = config.reports.orgName;
  const uid = crypto.randomUUID();
  const reportId = `${uid}@${config.hostname}`;
  const xml = buildDmarcXml(rows, day, domain, policy, {
    orgName: org,
    email: config.reports.from,
    reportId,
  });
  const [start, end] = dayRange(day);
  // RFC 7489 §7.2.1.1: the file name and the subject.
  const message = buildReportMail({
    from: config.reports.from,
    to,
    subject: `Report Domain: ${domain} Submitter: ${org} Report-ID: <${reportId}>`,
    headers: [],
    text: `This is a DMARC aggregate report from ${org} for ${domain} on ${day}.`,
    attachment: {
      type: "application/gzip",
      filename: `${org}!${domain}!${start / 1000}!${end / 1000 - 1}!${uid}.xml.gz`,
      data: await gzip(new TextEncoder().encode(xml)),
    },
    now: d.now(),
    hostname: config.hostname,
  });
  await submitReport(d, config.reports.from, to, message);
  log.info("dmarc", "aggregate report sent", { domain, day, to: to.join(","), rows: rows.length });
}
