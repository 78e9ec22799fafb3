/** `dkim generate DOMAIN [--selector S] [--force]`: create a DKIM key, print its TXT record. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain } from "../validate.ts";
import { requireArg } from "./domain.ts";
import { dkimTxtRecord, generateDkimKey, loadDkimKey, saveDkimKey } from "../../core/queue/dkim.ts";

export const usage = "dkim generate DOMAIN [--selector S] [--force]";

/** RFC 6376 §3.1: a selector is one or more DNS labels. */
const SELECTOR =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A TXT value as quoted character-strings of at most 255 octets (RFC 1035 §3.3.14). */
export function quoteTxt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(" ");
}

export async function run(ctx: CliContext): Promise<void> {
  const [sub, name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (sub !== "generate") {
    throw new UsageError(`dkim: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
  const domain = checkDomain(requireArg(name, "DOMAIN"));
  const selector = ctx.args.values.get("--selector") ?? defaultSelector();
  if (!SELECTOR.test(selector)) throw new UsageError(`--selector: invalid selector "${selector}"`);
  const config = await ctx.config();
  const existing = await loadDkimKey(config.dataDir, domain);
  if (existing && !ctx.args.booleans.has("--force")) {
    throw new UsageError(
      `${domain} already has a DKIM key (selector ${existing.selector}); use --force to replace it`,
    );
  }
  const key = generateDkimKey(domain, selector);
  const path = await saveDkimKey(config.dataDir, key);
  ctx.print(`wrote ${path}`);
  ctx.print(`Publish this DNS record, then outbound mail from ${domain} is signed:`);
  ctx.print(`${selector}._domainkey.${domain}.\tTXT\t${quoteTxt(dkimTxtRecord(key.publicKey))}`);
}

/** "dmYYYYMM": a dated selector makes key rotation easy. */
function defaultSelector(): string {
  const d = new Date();
  return `dm${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}
