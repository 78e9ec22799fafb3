/**
 * Domain operations (CLI `domain`, `dns`; API `/api/admin/domains`).
 *
 * @module
 */
import type { Domain } from "../../storage/mod.ts";
import { type AdminContext, audit } from "./context.ts";
import { createLookup } from "../dns_lookup.ts";
import { type DnsRecord, dnsRecords, zoneLines } from "./dns_records.ts";
import { checkRecords, type RecordCheck } from "./dns_check.ts";
import { checkDomain, requireArg } from "./validate.ts";

export function listDomains(ctx: AdminContext): Promise<Domain[]> {
  return ctx.store.listDomains();
}

/** Adds the domain; returns its normalized name. */
export async function addDomain(ctx: AdminContext, raw: string | undefined): Promise<string> {
  const d = checkDomain(requireArg(raw, "DOMAIN"));
  await ctx.store.addDomain(d);
  await audit(ctx, "domain.add", d);
  return d;
}

/** Removes the domain (StoreError "in_use" while accounts use it). */
export async function removeDomain(ctx: AdminContext, raw: string | undefined): Promise<string> {
  const d = checkDomain(requireArg(raw, "DOMAIN"));
  await ctx.store.removeDomain(d);
  await audit(ctx, "domain.remove", d);
  return d;
}

/** What the DNS operations need (no store: `dns` works before anything is stored). */
export type DnsContext = Pick<AdminContext, "hostname" | "dataDir" | "certPem" | "dns" | "mtaSts">;

/** The complete record set for `domain` as this server is configured. */
async function recordsFor(ctx: DnsContext, domain: string) {
  const cert = (await ctx.certPem?.()) ?? null;
  return await dnsRecords(domain, ctx.hostname, ctx.dataDir, cert, ctx.mtaSts);
}

/** The records to publish for the domain (known or not, as `dns DOMAIN`), and their zone text. */
export async function domainRecords(
  ctx: DnsContext,
  raw: string | undefined,
): Promise<{ domain: string; records: DnsRecord[]; notes: string[]; zone: string[] }> {
  const domain = checkDomain(requireArg(raw, "DOMAIN"));
  const dns = await recordsFor(ctx, domain);
  return { domain, ...dns, zone: zoneLines(dns, ctx.hostname) };
}

/** `dns check DOMAIN`: every record looked up through the configured resolver. */
export async function checkDomainDns(
  ctx: DnsContext,
  raw: string | undefined,
): Promise<{ domain: string; checks: RecordCheck[]; notes: string[]; ok: boolean }> {
  const domain = checkDomain(requireArg(raw, "DOMAIN"));
  const dns = await recordsFor(ctx, domain);
  const lookup = createLookup(ctx.dns ?? { nameserver: null, timeoutMs: 5000 });
  const checks = await checkRecords(domain, ctx.hostname, dns.records, lookup);
  return { domain, checks, notes: dns.notes, ok: checks.every((c) => c.status === "ok") };
}
