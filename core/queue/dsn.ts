/**
 * Delivery status notifications (RFC 3464) from the null sender: a multipart/report
 * (RFC 6522) with a human part, a message/delivery-status part and the returned message
 * (RET=FULL) or its header (RET=HDRS). Composition only; no I/O.
 *
 * @module
 */
import type { QueueRecipient } from "../../storage/mod.ts";
import { concatBytes } from "../../lib/bytes.ts";
import { rfc5322Date } from "../../lib/dates.ts";

/** One recipient the report is about. */
export interface ReportedRecipient {
  address: string;
  /** RFC 3461 ORCPT as stored: "rfc822;xtext". */
  orcpt?: string;
  /** RFC 3464 §2.3.3. */
  action: "failed" | "delayed";
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** One line, e.g. "550 5.1.1 No such user". */
  diagnostic: string;
  remoteMta?: string;
  /** RFC 3464 §2.3.9, delayed only: when we give up (ms since the epoch). */
  willRetryUntil?: number;
}

export interface DsnInput {
  /** Our host name (Reporting-MTA, From). */
  hostname: string;
  /** The envelope sender of the original message: the report goes there. */
  sender: string;
  recipients: ReportedRecipient[];
  original: Uint8Array;
  /** RFC 3461 §4.3: "HDRS" returns only the header. */
  ret?: string | null;
  /** RFC 3461 §4.4: ENVID, xtext as given. */
  envid?: string | null;
  arrivalDate: number;
  now: number;
  /** Larger originals are returned as headers only. */
  maxReturnBytes?: number;
}

/**
 * RFC 3461 §4.1: should this recipient be reported for `action`? NOTIFY=NEVER: never;
 * an explicit list must name FAILURE / DELAY; no NOTIFY: failures and delays both.
 */
export function wantsNotice(r: QueueRecipient, action: "failed" | "delayed"): boolean {
  const notify = r.dsn?.notify;
  if (!Array.isArray(notify) || notify.length === 0) return true;
  const set = new Set(notify.map((n) => String(n).toUpperCase()));
  if (set.has("NEVER")) return false;
  return set.has(action === "failed" ? "FAILURE" : "DELAY");
}

/** RFC 3461 §4: xtext "+HH" escapes decoded. */
export function decodeXtext(s: string): string {
  return s.replace(/\+([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** The header section of a message (up to the first empty line), without it. */
export function headerSection(message: Uint8Array): Uint8Array {
  for (let i = 0; i + 1 < message.length; i++) {
    if (message[i] !== 0x0a) continue;
    if (message[i + 1] === 0x0a) return message.subarray(0, i + 1);
    if (message[i + 1] === 0x0d && message[i + 2] === 0x0a) return message.subarray(0, i + 1);
  }
  return message;
}

const enc = new TextEncoder();

/** Cleans one header/field value: no line breaks, bounded. */
function field(v: string): string {
  return v.replace(/[\r\n]+/g, " ").slice(0, 900);
}

/** Builds the report message (CRLF line ends). */
export function buildDsn(input: DsnInput): Uint8Array {
  const failed = input.recipients.some((r) => r.action === "failed");
  const boundary = `=_dsn_${crypto.randomUUID().replaceAll("-", "")}`;
  const id = `${crypto.randomUUID()}@${input.hostname}`;
  const subject = failed
    ? "Undelivered Mail Returned to Sender"
    : "Delayed Mail (still being retried)";
  const human = [
    `This is the mail system at ${input.hostname}.`,
    "",
    failed
      ? "Your message could not be delivered to one or more recipients. It is attached below."
      : "Your message has not been delivered yet; delivery will be retried.",
    "",
    ...input.recipients.map((r) =>
      `<${r.address}>: ${r.action === "failed" ? "delivery failed" : "delayed"}` +
      (r.remoteMta
        ? ` (host ${r.remoteMta} said: ${field(r.diagnostic)})`
        : `: ${field(r.diagnostic)}`)
    ),
  ];
  // RFC 3464 §2.2: per-message fields.
  const perMessage = [`Reporting-MTA: dns; ${input.hostname}`];
  if (input.envid) perMessage.push(`Original-Envelope-Id: ${field(decodeXtext(input.envid))}`);
  perMessage.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  // RFC 3464 §2.3: per-recipient fields.
  const perRecipient = input.recipients.map((r) => {
    const lines: string[] = [];
    if (r.orcpt) {
      const semi = r.orcpt.indexOf(";");
      lines.push(
        `Original-Recipient: ${field(r.orcpt.slice(0, semi))}; ${
          field(decodeXtext(r.orcpt.slice(semi + 1)))
        }`,
      );
    }
    lines.push(`Final-Recipient: rfc822; ${field(r.address)}`);
    lines.push(`Action: ${r.action}`);
    lines.push(`Status: ${r.status}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${field(r.remoteMta)}`);
    lines.push(`Diagnostic-Code: smtp; ${field(r.diagnostic)}`);
    lines.push(`Last-Attempt-Date: ${rfc5322Date(input.now)}`);
    // RFC 3464 §2.3.9: only for action=delayed.
    if (r.action === "delayed" && r.willRetryUntil !== undefined) {
      lines.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    }
    return lines.join("\r\n");
  });
  const maxReturn = input.maxReturnBytes ?? 10 * 1024 * 1024;
  // RFC 3461 §4.3: RET=HDRS returns the header only; a huge original too (RFC 3464 §6).
  const full = String(input.ret ?? "").toUpperCase() !== "HDRS" &&
    input.original.length <= maxReturn;
  const returned = full ? input.original : headerSection(input.original);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${field(input.sender)}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${id}>`,
    // RFC 3834 §5: an automatic response; nobody should auto-reply to it.
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    ...human,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    perMessage.join("\r\n"),
    "",
    perRecipient.join("\r\n\r\n"),
    "",
    `--${boundary}`,
    `Content-Type: ${full ? "message/rfc822" : "text/rfc822-headers"}`,
    "",
    "",
  ].join("\r\n");
  const tail = enc.encode(
    (returned.length && returned[returned.length - 1] !== 0x0a ? "\r\n" : "") +
      `\r\n--${boundary}--\r\n`,
  );
  return concatBytes([enc.encode(head), returned, tail]);
}

/** RFC 5321 §6.3: count Received header fields (mail loop detection). */
export function countReceived(message: Uint8Array): number {
  const text = new TextDecoder().decode(headerSection(message));
  return (text.match(/^received:/gim) ?? []).length;
}
