/**
 * Domain operations (CLI `domain`, `dns`; API `/api/admin/domains`).
 *
 * @module
 */
import type { Domain } from "../../storage/mod.ts";
import { type AdminContext, audit } from "./context.ts";
import { dnsRecords } from "./dns_records.ts";
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

/** The zone-file lines to publish for the domain (known or not, as `dns DOMAIN`). */
export async function domainRecords(
  ctx: AdminContext,
  raw: string | undefined,
): Promise<{ domain: string; records: string[] }> {
  const domain = checkDomain(requireArg(raw, "DOMAIN"));
  return { domain, records: await dnsRecords(domain, ctx.hostname, ctx.dataDir) };
}
