/** `dns DOMAIN`: print the DNS records to publish for a mail domain. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain } from "../validate.ts";
import { requireArg } from "./domain.ts";
import { dkimTxtRecord, loadDkimKey } from "../../core/queue/dkim.ts";
import { quoteTxt } from "./dkim.ts";
import { createPublicKey } from "node:crypto";

export const usage = "dns DOMAIN";

export async function run(ctx: CliContext): Promise<void> {
  const [name, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const domain = checkDomain(requireArg(name, "DOMAIN"));
  const config = await ctx.config();
  const host = config.hostname;
  ctx.print(`; DNS records for ${domain} (mail server ${host})`);
  // RFC 5321 §5.1
  ctx.print(`${domain}.\tMX\t10 ${host}.`);
  // RFC 7208
  ctx.print(`${domain}.\tTXT\t"v=spf1 mx -all"`);
  // RFC 6376 §3.6.1
  const key = await loadDkimKey(config.dataDir, domain);
  if (key) {
    const der = createPublicKey(key.privateKey).export({ type: "spki", format: "der" });
    let bin = "";
    for (const b of der) bin += String.fromCharCode(b);
    ctx.print(`${key.selector}._domainkey.${domain}.\tTXT\t${quoteTxt(dkimTxtRecord(btoa(bin)))}`);
  } else {
    ctx.print(`; no DKIM key yet: run "denomail dkim generate ${domain}"`);
  }
  // RFC 7489 §6.3
  ctx.print(`_dmarc.${domain}.\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}"`);
  // RFC 8461 §3.1: the policy itself is served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
  ctx.print(`_mta-sts.${domain}.\tTXT\t"v=STSv1; id=${mtaStsId()}"`);
  // RFC 8460 §3
  ctx.print(`_smtp._tls.${domain}.\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@${domain}"`);
  // RFC 6186 §3, and the autoconfig name mail clients look up
  ctx.print(`_submissions._tcp.${domain}.\tSRV\t0 1 465 ${host}.`);
  ctx.print(`_imaps._tcp.${domain}.\tSRV\t0 1 993 ${host}.`);
  ctx.print(`autoconfig.${domain}.\tCNAME\t${host}.`);
}

function mtaStsId(): string {
  return new Date().toISOString().slice(0, 10).replaceAll("-", "");
}
