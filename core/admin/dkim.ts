/**
 * DKIM key generation (CLI `dkim generate`; API `POST /api/admin/domains/D/dkim`).
 *
 * @module
 */
import { dkimTxtRecord, generateDkimKey, loadDkimKey, saveDkimKey } from "../queue/dkim.ts";
import { type AdminContext, audit } from "./context.ts";
import { quoteTxt } from "./dns_records.ts";
import { UsageError } from "./errors.ts";
import { checkDomain, requireArg } from "./validate.ts";

/** RFC 6376 §3.1: a selector is one or more DNS labels. */
const SELECTOR =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** "dmYYYYMM": a dated selector makes key rotation easy. */
function defaultSelector(): string {
  const d = new Date();
  return `dm${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export interface DkimResult {
  domain: string;
  selector: string;
  /** Where the private key was written. */
  path: string;
  /** The zone-file line to publish. */
  record: string;
}

/** Creates (or with `force` replaces) the domain's DKIM key. */
export async function generateDkim(
  ctx: AdminContext,
  raw: string | undefined,
  opts: { selector?: string; force?: boolean } = {},
): Promise<DkimResult> {
  const domain = checkDomain(requireArg(raw, "DOMAIN"));
  const selector = opts.selector ?? defaultSelector();
  if (!SELECTOR.test(selector)) throw new UsageError(`--selector: invalid selector "${selector}"`);
  const existing = await loadDkimKey(ctx.dataDir, domain);
  if (existing && !opts.force) {
    throw new UsageError(
      `${domain} already has a DKIM key (selector ${existing.selector}); use --force to replace it`,
      "exists",
    );
  }
  const key = generateDkimKey(domain, selector);
  const path = await saveDkimKey(ctx.dataDir, key);
  await audit(ctx, "dkim.generate", domain, { selector, replaced: !!existing });
  const record = `${selector}._domainkey.${domain}.\tTXT\t${
    quoteTxt(dkimTxtRecord(key.publicKey))
  }`;
  return { domain, selector, path, record };
}
