/**
 * The DNS records to publish for a mail domain: one list, printed by `init` and `dns` and served by the admin API
 * so the two never disagree.
 *
 * @module
 */
import { createPublicKey } from "node:crypto";
import { dkimTxtRecord, loadDkimKey } from "../queue/dkim.ts";

/** A TXT value as quoted character-strings of at most 255 octets (RFC 1035 §3.3.14). */
export function quoteTxt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(" ");
}

/** Zone-file lines (";" comments included) for `domain` served by `host`. */
export async function dnsRecords(domain: string, host: string, dataDir: string): Promise<string[]> {
  const lines: string[] = [];
  // RFC 5321 §5.1
  lines.push(`${domain}.\tMX\t10 ${host}.`);
  lines.push(`; ${host}. needs A (and AAAA) records for this server, and PTR records back to it`);
  // RFC 7208
  lines.push(`${domain}.\tTXT\t"v=spf1 mx -all"`);
  // RFC 6376 §3.6.1
  const key = await loadDkimKey(dataDir, domain);
  if (key) {
    const der = createPublicKey(key.privateKey).export({ type: "spki", format: "der" });
    let bin = "";
    for (const b of der) bin += String.fromCharCode(b);
    lines.push(`${key.selector}._domainkey.${domain}.\tTXT\t${quoteTxt(dkimTxtRecord(btoa(bin)))}`);
  } else {
    lines.push(`; no DKIM key yet: run "denomail dkim generate ${domain}", then "denomail dns"`);
  }
  // RFC 7489 §6.3
  lines.push(`_dmarc.${domain}.\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}"`);
  // RFC 8461 §3.1: the policy itself is served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
  lines.push(`_mta-sts.${domain}.\tTXT\t"v=STSv1; id=${mtaStsId()}"`);
  // RFC 8460 §3
  lines.push(`_smtp._tls.${domain}.\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@${domain}"`);
  // RFC 6186 §3, and the autoconfig name mail clients look up
  lines.push(`_submissions._tcp.${domain}.\tSRV\t0 1 465 ${host}.`);
  lines.push(`_imaps._tcp.${domain}.\tSRV\t0 1 993 ${host}.`);
  lines.push(`autoconfig.${domain}.\tCNAME\t${host}.`);
  return lines;
}

function mtaStsId(): string {
  return new Date().toISOString().slice(0, 10).replaceAll("-", "");
}
