/**
 * DMARC aggregate reports that arrive for our domains (mail to the rua address `dns`
 * publishes, postmaster@<domain>): the report attachment is found (gzip'd or plain XML;
 * zip archives are not read — the log says so), decompressed within a bound, parsed with
 * the bounded XML reader (no DTD, depth and element limits), and kept per policy domain and
 * day in the kv area for `deno task cli dmarc report` and `GET /api/admin/dmarc`.
 *
 * @module
 */
import type { Store } from "../../storage/mod.ts";
import { parseMime } from "../../mime/parser.ts";
import { decodeBody } from "../../mime/decode.ts";
import type { MimePart } from "../../mime/types.ts";
import { log } from "../../lib/log.ts";
import { DayStore } from "./day_store.ts";
import { gunzip, utcDay } from "./mail.ts";
import { child, parseXml, textAt, type XmlElement } from "./xml.ts";

/** One record of a received report. */
export interface ReceivedRow {
  ip: string;
  count: number;
  disposition: string;
  dkim: string;
  spf: string;
  headerFrom: string;
}

/** One received report. */
export interface ReceivedReport {
  org: string;
  email: string;
  reportId: string;
  begin: number;
  end: number;
  domain: string;
  policy: string;
  rows: ReceivedRow[];
}

/** A report's XML, decompressed, at most this long. */
export const MAX_REPORT_BYTES = 20 * 1024 * 1024;
/** Rows kept per report and reports per domain and day: a flood of fake reports stays small. */
const MAX_ROWS = 200;
const MAX_REPORTS_PER_DAY = 100;
/** Received reports are forgotten after this many days. */
export const KEEP_DAYS = 180;

function received(store: Store): DayStore<ReceivedReport[]> {
  return new DayStore<ReceivedReport[]>(store, "denomail:dmarc-in");
}

/** RFC 7489 Appendix C: the fields the view needs. Throws Error when it is not a report. */
export function parseDmarcReport(xml: string): ReceivedReport {
  const root = parseXml(xml);
  if (root.name !== "feedback") throw new Error("not a DMARC report (no <feedback>)");
  const meta = child(root, "report_metadata");
  const pub = child(root, "policy_published");
  const domain = textAt(pub, "domain").toLowerCase();
  const begin = Number(textAt(meta, "date_range", "begin"));
  const end = Number(textAt(meta, "date_range", "end"));
  if (!domain || !Number.isFinite(begin) || !Number.isFinite(end)) {
    throw new Error("report without a policy domain or date range");
  }
  const rows: ReceivedRow[] = [];
  for (const rec of root.children.filter((c) => c.name === "record")) {
    if (rows.length >= MAX_ROWS) break;
    rows.push(parseRecord(rec));
  }
  return {
    org: textAt(meta, "org_name"),
    email: textAt(meta, "email"),
    reportId: textAt(meta, "report_id"),
    begin,
    end,
    domain,
    policy: textAt(pub, "p"),
    rows,
  };
}

function parseRecord(rec: XmlElement): ReceivedRow {
  const row = child(rec, "row");
  const count = Number(textAt(row, "count"));
  return {
    ip: textAt(row, "source_ip"),
    count: Number.isSafeInteger(count) && count >= 0 ? count : 0,
    disposition: textAt(row, "policy_evaluated", "disposition"),
    dkim: textAt(row, "policy_evaluated", "dkim"),
    spf: textAt(row, "policy_evaluated", "spf"),
    headerFrom: textAt(rec, "identifiers", "header_from").toLowerCase(),
  };
}

function* leaves(p: MimePart): Generator<MimePart> {
  if (p.children.length > 0) { for (const c of p.children) yield* leaves(c); }
  else yield p;
}

function filename(p: MimePart): string {
  return (p.dispositionParams.find((x) => x.name === "filename")?.value ??
    p.params.find((x) => x.name === "name")?.value ?? "").toLowerCase();
}

/** The report documents in a message (XML text), decompressed. */
export async function reportDocuments(message: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for (const part of leaves(parseMime(message))) {
    const type = `${part.type}/${part.subtype}`;
    const name = filename(part);
    const gz = type === "application/gzip" || type === "application/x-gzip" ||
      name.endsWith(".xml.gz");
    const xml = type === "application/xml" || type === "text/xml" || name.endsWith(".xml");
    const zip = type === "application/zip" || name.endsWith(".zip");
    if (zip) {
      log.info("dmarc", "zip'd report ignored: only gzip and plain XML are read", { name });
      continue;
    }
    if (!gz && !xml) continue;
    const body = decodeBody(message, part);
    if (!body) continue;
    const bytes = gz ? await gunzip(body, MAX_REPORT_BYTES) : body;
    if (bytes.length > MAX_REPORT_BYTES) throw new Error("report too large");
    out.push(new TextDecoder().decode(bytes));
  }
  return out;
}

/**
 * Reads the DMARC reports in a message addressed to us and keeps those about `ourDomains`.
 * Returns how many were kept. Never throws (a bad report is logged and skipped).
 */
export async function ingestDmarcReports(
  store: Store,
  message: Uint8Array,
  ourDomains: Set<string>,
): Promise<number> {
  let kept = 0;
  let docs: string[];
  try {
    docs = await reportDocuments(message);
  } catch (e) {
    log.warn("dmarc", "report attachment unreadable", { error: (e as Error).message });
    return 0;
  }
  for (const doc of docs) {
    let r: ReceivedReport;
    try {
      r = parseDmarcReport(doc);
    } catch (e) {
      log.warn("dmarc", "report refused", { error: (e as Error).message });
      continue;
    }
    if (!ourDomains.has(r.domain)) {
      log.warn("dmarc", "report about a domain that is not ours ignored", { domain: r.domain });
      continue;
    }
    await received(store).update(utcDay(r.begin * 1000), r.domain, (cur) => {
      const all = (cur ?? []).filter((x) => !(x.org === r.org && x.reportId === r.reportId));
      if (all.length < MAX_REPORTS_PER_DAY) all.push(r);
      return all;
    });
    kept++;
    await forgetOld(store, r.begin * 1000 - KEEP_DAYS * 86_400_000);
    log.info("dmarc", "aggregate report received", {
      domain: r.domain,
      org: r.org,
      id: r.reportId,
      rows: r.rows.length,
    });
  }
  return kept;
}

/** Drops the received reports of days before `before` (ms). */
async function forgetOld(store: Store, before: number): Promise<void> {
  const days = received(store);
  const limit = utcDay(before);
  for (const e of await days.entries()) if (e.day < limit) await days.drop(e.day, e.domain);
}

/** The view of one domain's received reports. */
export interface DmarcDomainSummary {
  domain: string;
  reports: number;
  messages: number;
  /** Messages that passed DMARC (aligned DKIM or SPF pass). */
  pass: number;
  fail: number;
  /** Sources by messages, most first: ip, messages, failed, reporting orgs. */
  sources: Array<{ ip: string; messages: number; fail: number; orgs: string[] }>;
  firstDay: string;
  lastDay: string;
}

/** Summarises the received reports, of one domain or all. */
export async function dmarcSummary(store: Store, domain?: string): Promise<DmarcDomainSummary[]> {
  const days = received(store);
  const by = new Map<string, DmarcDomainSummary>();
  const sources = new Map<
    string,
    Map<string, { messages: number; fail: number; orgs: Set<string> }>
  >();
  for (const e of await days.entries()) {
    if (domain && e.domain !== domain.toLowerCase()) continue;
    const reports = (await days.get(e.day, e.domain)) ?? [];
    let s = by.get(e.domain);
    if (!s) {
      by.set(
        e.domain,
        s = {
          domain: e.domain,
          reports: 0,
          messages: 0,
          pass: 0,
          fail: 0,
          sources: [],
          firstDay: e.day,
          lastDay: e.day,
        },
      );
      sources.set(e.domain, new Map());
    }
    s.lastDay = e.day > s.lastDay ? e.day : s.lastDay;
    s.firstDay = e.day < s.firstDay ? e.day : s.firstDay;
    const src = sources.get(e.domain)!;
    for (const r of reports) {
      s.reports++;
      for (const row of r.rows) {
        const ok = row.dkim === "pass" || row.spf === "pass";
        s.messages += row.count;
        if (ok) s.pass += row.count;
        else s.fail += row.count;
        let x = src.get(row.ip);
        if (!x) src.set(row.ip, x = { messages: 0, fail: 0, orgs: new Set() });
        x.messages += row.count;
        if (!ok) x.fail += row.count;
        if (r.org) x.orgs.add(r.org);
      }
    }
  }
  for (const [d, s] of by) {
    s.sources = [...sources.get(d)!].map(([ip, x]) => ({
      ip,
      messages: x.messages,
      fail: x.fail,
      orgs: [...x.orgs].sort(),
    }))
      .sort((a, b) => b.messages - a.messages).slice(0, 50);
  }
  return [...by.values()].sort((a, b) => a.domain < b.domain ? -1 : 1);
}
