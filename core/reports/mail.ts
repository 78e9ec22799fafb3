/**
 * What TLS-RPT and DMARC aggregate reports share: gzip, the report mail (a multipart/report
 * with the compressed report attached, RFC 8460 §5.3 and RFC 7489 §7.2.1.1), the `rua=`
 * mailto: URIs of a published record, the UTC day, and handing the mail to the queue (or a
 * local mailbox) like any other message.
 *
 * @module
 */
import type { Store } from "../../storage/mod.ts";
import type { Router } from "../router.ts";
import { rfc5322Date } from "../../lib/dates.ts";
import { concatBytes } from "../../lib/bytes.ts";
import { log } from "../../lib/log.ts";

/** Gzips bytes (RFC 1952). */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Gunzips at most `maxBytes` of output; throws Error when it is more or not gzip. */
export async function gunzip(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const reader = new Blob([data as BlobPart]).stream()
    .pipeThrough(new DecompressionStream("gzip")).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`report larger than ${maxBytes} bytes once decompressed`);
    }
    parts.push(value);
  }
  return concatBytes(parts, size);
}

/** The UTC day "YYYY-MM-DD" of `ms`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** [start, end) of a UTC day, in ms. */
export function dayRange(day: string): [number, number] {
  const start = Date.parse(`${day}T00:00:00Z`);
  return [start, start + 86_400_000];
}

/**
 * The mailto: addresses of a record's `rua=` (RFC 8460 §3, RFC 7489 §6.3): a comma-separated
 * list of URIs; a DMARC "!size" suffix is dropped; other schemes are ignored.
 */
export function ruaMailtos(record: string): string[] {
  const out: string[] = [];
  for (const tag of record.split(";")) {
    const eq = tag.indexOf("=");
    if (eq < 0 || tag.slice(0, eq).trim().toLowerCase() !== "rua") continue;
    for (const uri of tag.slice(eq + 1).split(",")) {
      const u = uri.trim();
      if (!/^mailto:/i.test(u)) continue;
      const addr = decodeURIComponent(u.slice(7).replace(/!.*$/, "").split("?")[0]).trim();
      if (/^[^@\s<>]+@[^@\s<>]+$/.test(addr)) out.push(addr);
    }
  }
  return out;
}

function base64Lines(b: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return (btoa(bin).match(/.{1,76}/g) ?? []).join("\r\n");
}

/** One report mail to build. */
export interface ReportMail {
  from: string;
  to: string[];
  subject: string;
  /** Extra header fields (e.g. TLS-Report-Domain, RFC 8460 §5.3). */
  headers: Array<[string, string]>;
  /** "tlsrpt" for TLS-RPT; absent: multipart/mixed (DMARC, RFC 7489 §7.2.1.1). */
  reportType?: string;
  text: string;
  attachment: { type: string; filename: string; data: Uint8Array };
  now: number;
  hostname: string;
}

/** The MIME message of a report. */
export function buildReportMail(m: ReportMail): Uint8Array {
  const rand = crypto.randomUUID();
  const boundary = `=_report_${rand}`;
  const ctype = m.reportType
    ? `multipart/report; report-type="${m.reportType}"; boundary="${boundary}"`
    : `multipart/mixed; boundary="${boundary}"`;
  const lines = [
    `From: <${m.from}>`,
    `To: ${m.to.map((t) => `<${t}>`).join(", ")}`,
    `Date: ${rfc5322Date(m.now)}`,
    `Subject: ${m.subject}`,
    `Message-ID: <${rand}@${m.hostname}>`,
    ...m.headers.map(([k, v]) => `${k}: ${v}`),
    `MIME-Version: 1.0`,
    `Content-Type: ${ctype}`,
    ``,
    `This is a multipart message in MIME format.`,
    `--${boundary}`,
    `Content-Type: text/plain; charset=us-ascii`,
    ``,
    m.text,
    `--${boundary}`,
    `Content-Type: ${m.attachment.type}`,
    `Content-Transfer-Encoding: base64`,
    `Content-Disposition: attachment; filename="${m.attachment.filename}"`,
    ``,
    base64Lines(m.attachment.data),
    `--${boundary}--`,
    ``,
  ];
  return new TextEncoder().encode(lines.join("\r\n"));
}

/** What sending a report needs. */
export interface ReportSendDeps {
  store: Store;
  router: Router;
  now(): number;
}

/** Hands a report to local mailboxes and/or the outbound queue. */
export async function submitReport(
  d: ReportSendDeps,
  from: string,
  to: string[],
  message: Uint8Array,
): Promise<void> {
  const remote: string[] = [];
  const local: Array<{ accountId: number; mailbox: string }> = [];
  for (const address of to) {
    const route = await d.router.resolve(address, { mayRelay: true });
    if (route.kind === "reject") {
      log.warn("reports", "report recipient refused", { to: address, reason: route.text });
      continue;
    }
    remote.push(...route.remote);
    for (const l of route.local) local.push({ accountId: l.accountId, mailbox: "INBOX" });
  }
  if (local.length > 0) await d.store.deliver(message, local);
  if (remote.length > 0) {
    await d.store.enqueue(message, {
      sender: from,
      recipients: remote.map((address) => ({ address, status: "pending" })),
      nextAttemptAt: d.now(),
      meta: { report: true },
    });
  }
}
