/**
 * SMTP replies as the client sees them, and the one error type delivery uses. No I/O.
 *
 * @module
 */

/** A server reply (RFC 5321 §4.2), lines without the "NNN-" prefix. */
export interface SmtpReply {
  code: number;
  /** RFC 3463 enhanced code from the first line, or "". */
  enhanced: string;
  lines: string[];
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/;

/** Parses one reply line: [code, continues, text], or null when malformed. */
export function parseReplyLine(line: string): [number, boolean, string] | null {
  // RFC 5321 §4.2: "NNN text", "NNN-text", or a bare "NNN".
  const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(line);
  if (!m) return null;
  return [Number(m[1]), m[2] === "-", m[3]];
}

/** Builds a reply from its parsed lines, extracting the enhanced code. */
export function makeReply(code: number, lines: string[]): SmtpReply {
  const m = ENHANCED.exec(lines[0] ?? "");
  return { code, enhanced: m ? m[1] : "", lines };
}

/** "550 5.1.1 No such user" in one line (for logs, lastError and Diagnostic-Code). */
export function replyText(r: SmtpReply): string {
  const text = r.lines.join(" ").replace(/\s+/g, " ").trim();
  return `${r.code} ${text}`.trim();
}

/** Where a failure was seen, for the DSN (RFC 3464 §2.3.6 Remote-MTA / Diagnostic-Code). */
export interface FailureInfo {
  permanent: boolean;
  /** RFC 3463 status for the DSN, e.g. "5.1.1". */
  status: string;
  /** One line, e.g. "550 5.1.1 No such user" (the remote reply, or one we made up). */
  diagnostic: string;
  /** The remote host that gave the reply, when there was one. */
  remoteMta?: string;
}

/** A delivery failure for every recipient of one attempt (DNS, connect, MAIL, DATA, ...). */
export class DeliveryError extends Error implements FailureInfo {
  readonly permanent: boolean;
  readonly status: string;
  readonly diagnostic: string;
  readonly remoteMta?: string;

  constructor(info: FailureInfo) {
    super(info.diagnostic);
    this.name = "DeliveryError";
    this.permanent = info.permanent;
    this.status = info.status;
    this.diagnostic = info.diagnostic;
    this.remoteMta = info.remoteMta;
  }

  /** From a remote reply: 5xx permanent, 4xx temporary (RFC 5321 §4.2.1). */
  static fromReply(r: SmtpReply, remoteMta: string): DeliveryError {
    return new DeliveryError(failureFromReply(r, remoteMta));
  }
}

/** FailureInfo for a failing reply; the status is the enhanced code or derived from the code. */
export function failureFromReply(r: SmtpReply, remoteMta: string): FailureInfo {
  const permanent = r.code >= 500;
  return {
    permanent,
    status: r.enhanced || (permanent ? "5.0.0" : "4.0.0"),
    diagnostic: replyText(r),
    remoteMta,
  };
}
