/**
 * The DNS records to publish for a mail domain: one list, printed by `init` and `dns`,
 * checked by `dns check` (dns_check.ts) and served by the admin API, so they never disagree.
 *
 * Each record is {name, type, value, why}: names end with a dot, TXT values are the text
 * itself (zoneLine quotes it). Ports are the production ones (README, "Pointing a mail
 * program at it"), whatever the dev listeners use.
 *
 * @module
 */
import { createHash, createPublicKey, X509Certificate } from "node:crypto";
import { join } from "node:path";
import { dkimTxtRecord, loadDkimKey } from "../queue/dkim.ts";

export type RecordType = "MX" | "TXT" | "CNAME" | "SRV" | "TLSA";

export interface DnsRecord {
  /** Owner name, fully qualified with the trailing dot. */
  name: string;
  type: RecordType;
  /** Presentation form; TXT: the unquoted text. */
  value: string;
  /** What the record is for (shown as a comment and in the console). */
  why: string;
}

export interface DomainDns {
  records: DnsRecord[];
  /** What cannot be a record yet (no DKIM key, no certificate), with the command to fix it. */
  notes: string[];
}

/** A TXT value as quoted character-strings of at most 255 octets (RFC 1035 §3.3.14). */
export function quoteTxt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(" ");
}

/** One zone-file line: `name<TAB>TYPE<TAB>value` (TXT quoted). */
export function zoneLine(r: DnsRecord): string {
  return `${r.name}\t${r.type}\t${r.type === "TXT" ? quoteTxt(r.value) : r.value}`;
}

/** The zone-file text of `dns DOMAIN` and `init`: each record after a "; why" comment. */
export function zoneLines(dns: DomainDns, host: string): string[] {
  const lines = [
    `; ${host}. needs A (and AAAA) records for this server, and PTR records back to it`,
  ];
  for (const r of dns.records) lines.push(`; ${r.why}`, zoneLine(r));
  for (const n of dns.notes) lines.push(`; ${n}`);
  return lines;
}

/**
 * The MTA-STS policy id (RFC 8461 §3.1: 1-32 alphanumerics, changed whenever the policy
 * changes): derived from what the policy says, so it stays put until the policy changes.
 */
export function mtaStsId(host: string, mode = "enforce", maxAgeS = 604800): string {
  return createHash("sha256").update(`${mode}\n${host.toLowerCase()}\n${maxAgeS}`).digest("hex")
    .slice(0, 20);
}

/** The MTA-STS policy served (`[mta_sts]`): its mode and max_age make the id. */
export interface MtaStsPolicy {
  mode: string;
  maxAgeS: number;
}

/** The certificate the server uses: `[tls] cert`, else the generated one; null if none yet. */
export async function readCertInUse(
  config: { dataDir: string; tls: { cert: string | null } },
): Promise<string | null> {
  const path = config.tls.cert ?? join(config.dataDir, "tls", "cert.pem");
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

/** RFC 6698 §2.1 / RFC 7671 §5.1: "3 1 1" = DANE-EE, SubjectPublicKeyInfo, SHA-256. */
export function tlsaValue(certPem: string): string | null {
  try {
    const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
    return `3 1 1 ${createHash("sha256").update(spki).digest("hex")}`;
  } catch {
    return null;
  }
}

/** The complete set for `domain` served by `host`. */
export async function dnsRecords(
  domain: string,
  host: string,
  dataDir: string,
  certPem: string | null,
  mtaSts: MtaStsPolicy = { mode: "enforce", maxAgeS: 604800 },
): Promise<DomainDns> {
  const d = `${domain}.`;
  const h = `${host}.`;
  const postmaster = `postmaster@${domain}`;
  const records: DnsRecord[] = [];
  const notes: string[] = [];
  const add = (name: string, type: RecordType, value: string, why: string) =>
    records.push({ name, type, value, why });
  add(d, "MX", `10 ${h}`, "RFC 5321 §5.1: where mail for the domain goes");
  add(d, "TXT", "v=spf1 mx -all", "RFC 7208 SPF: only the MX hosts send for the domain");
  const key = await loadDkimKey(dataDir, domain);
  if (key) {
    const der = createPublicKey(key.privateKey).export({ type: "spki", format: "der" });
    let bin = "";
    for (const b of der) bin += String.fromCharCode(b);
    add(
      `${key.selector}._domainkey.${d}`,
      "TXT",
      dkimTxtRecord(btoa(bin)),
      "RFC 6376 §3.6.1 DKIM: the key that signs outgoing mail",
    );
  } else {
    notes.push(`no DKIM key yet: run "denomail dkim generate ${domain}", then "denomail dns"`);
  }
  add(
    `_dmarc.${d}`,
    "TXT",
    `v=DMARC1; p=quarantine; rua=mailto:${postmaster}`,
    "RFC 7489 §6.3 DMARC: policy, and where aggregate reports go",
  );
  add(
    `_mta-sts.${d}`,
    "TXT",
    `v=STSv1; id=${mtaStsId(host, mtaSts.mode, mtaSts.maxAgeS)}`,
    "RFC 8461 §3.1 MTA-STS: a policy exists (served by the next host)",
  );
  add(
    `mta-sts.${d}`,
    "CNAME",
    h,
    "RFC 8461 §3.2: serves https://mta-sts.DOMAIN/.well-known/mta-sts.txt (or an A record)",
  );
  add(
    `_smtp._tls.${d}`,
    "TXT",
    `v=TLSRPTv1; rua=mailto:${postmaster}`,
    "RFC 8460 §3 TLS-RPT: where TLS failure reports go",
  );
  add(`autoconfig.${d}`, "CNAME", h, "Thunderbird autoconfig");
  add(`autodiscover.${d}`, "CNAME", h, "Outlook autodiscover");
  // RFC 6186 §3 (and RFC 8314 §5.1 for submissions): the production ports.
  const srv: Array<[string, number, string]> = [
    ["_submissions._tcp", 465, "submission over TLS"],
    ["_submission._tcp", 587, "submission with STARTTLS"],
    ["_imaps._tcp", 993, "IMAP over TLS"],
    ["_imap._tcp", 143, "IMAP with STARTTLS"],
    ["_pop3s._tcp", 995, "POP3 over TLS"],
  ];
  for (const [label, port, what] of srv) {
    add(`${label}.${d}`, "SRV", `0 1 ${port} ${h}`, `RFC 6186: ${what} for mail programs`);
  }
  const tlsa = certPem ? tlsaValue(certPem) : null;
  if (tlsa) {
    add(
      `_25._tcp.${h}`,
      "TLSA",
      tlsa,
      "RFC 7672 DANE: the key of the certificate in use (publish only in a DNSSEC-signed zone)",
    );
  } else {
    notes.push(
      `no certificate yet for the TLSA record of ${host}: start the server once, then "denomail dns"`,
    );
  }
  return { records, notes };
}
