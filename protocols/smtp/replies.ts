/**
 * SMTP replies, one vocabulary for both sides: the server's named constants with their RFC
 * 3463 enhanced status code, the typed error a command throws to send one, wire formatting,
 * and the parsing the outbound client (client/) uses to read a remote server's replies.
 * No I/O here.
 *
 * RFC 2034 §3: enhanced codes appear in every 2xx/4xx/5xx reply except the greeting and the
 * replies to HELO/EHLO; those are composed with `enhanced: ""`.
 *
 * @module
 */

/** One SMTP reply: a three-digit code, an enhanced code ("" for none), one or more lines. */
export interface Reply {
  code: number;
  /** RFC 3463 "class.subject.detail", or "" (greeting, EHLO/HELO). */
  enhanced: string;
  /** Text lines; a multi-line reply uses "250-" continuation lines (RFC 5321 §4.2.1). */
  lines: string[];
}

/** Builds a reply. */
export function reply(code: number, enhanced: string, ...lines: string[]): Reply {
  return { code, enhanced, lines: lines.length > 0 ? lines : [""] };
}

/** The same reply with other text. */
export function withText(r: Reply, ...lines: string[]): Reply {
  return { code: r.code, enhanced: r.enhanced, lines };
}

/** Renders a reply for the wire, CRLF-terminated (RFC 5321 §4.2). */
export function formatReply(r: Reply): string {
  const prefix = r.enhanced ? `${r.enhanced} ` : "";
  const lines = r.lines.length > 0 ? r.lines : [""];
  let out = "";
  for (let i = 0; i < lines.length; i++) {
    const sep = i === lines.length - 1 ? " " : "-";
    // Reply text never contains CR/LF: a line break in the text would forge a reply.
    const text = lines[i].replace(/[\r\n]+/g, " ");
    // No trimming: RFC 4954 §4 wants "334 " (with the space) for an empty challenge.
    out += `${r.code}${sep}${prefix}${text}\r\n`;
  }
  return out;
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/;

/** Parses one received reply line: [code, continues, text], or null when malformed. */
export function parseReplyLine(line: string): [number, boolean, string] | null {
  // RFC 5321 §4.2: "NNN text", "NNN-text", or a bare "NNN".
  const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(line);
  if (!m) return null;
  return [Number(m[1]), m[2] === "-", m[3]];
}

/**
 * Builds a received reply from the texts of its lines. The enhanced code is taken from the
 * first line (RFC 2034 §4) and removed from every line that repeats it, so `lines` means the
 * same as in the replies we send.
 */
export function parseReply(code: number, texts: string[]): Reply {
  const m = ENHANCED.exec(texts[0] ?? "");
  if (!m) return { code, enhanced: "", lines: texts };
  const enhanced = m[1];
  const lines = texts.map((t) =>
    t === enhanced ? "" : t.startsWith(enhanced + " ") ? t.slice(enhanced.length + 1) : t
  );
  return { code, enhanced, lines };
}

/** "550 5.1.1 No such user" in one line (logs, lastError, DSN Diagnostic-Code). */
export function replyText(r: Reply): string {
  const text = [r.enhanced, ...r.lines].join(" ").replace(/\s+/g, " ").trim();
  return `${r.code} ${text}`.trim();
}

/**
 * A protocol error: the command fails with `reply`. The session loop turns it into the wire
 * reply (one place), counts it towards max_bad_commands when `bad`, and closes when `close`.
 */
export class SmtpError extends Error {
  readonly reply: Reply;
  /** A client mistake (syntax, sequence, unknown command) that counts as a bad command. */
  readonly bad: boolean;
  /** Close the connection after sending the reply. */
  readonly close: boolean;

  constructor(r: Reply, opts: { bad?: boolean; close?: boolean } = {}) {
    super(`${r.code} ${r.enhanced} ${r.lines.join(" ")}`);
    this.name = "SmtpError";
    this.reply = r;
    this.bad = opts.bad ?? (r.code >= 500 && r.code <= 504 || r.code === 555);
    this.close = opts.close ?? r.code === 421;
  }
}

// --- 2xx ---------------------------------------------------------------------------------

export const OK = reply(250, "2.0.0", "OK");
export const SENDER_OK = reply(250, "2.1.0", "Sender OK");
export const RECIPIENT_OK = reply(250, "2.1.5", "Recipient OK");
export const RESET_OK = reply(250, "2.0.0", "Reset state");
export const BYE = reply(221, "2.0.0", "Bye");
/** RFC 5321 §3.5.3: VRFY that neither confirms nor denies. */
export const CANNOT_VRFY = reply(
  252,
  "2.1.5",
  "Cannot VRFY user, but will accept message and attempt delivery",
);
export const HELP = reply(
  214,
  "2.0.0",
  "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
  "See RFC 5321",
);
export const READY_TLS = reply(220, "2.0.0", "Ready to start TLS");
export const AUTH_OK = reply(235, "2.7.0", "Authentication successful");
export const START_DATA = reply(354, "", "Start mail input; end with <CRLF>.<CRLF>");

// --- 4xx ---------------------------------------------------------------------------------

export const TIMEOUT = reply(421, "4.4.2", "Timeout, closing connection");
/** RFC 5321 §3.8 / RFC 3463 4.3.2 (system not accepting network messages). */
export const SHUTTING_DOWN = reply(421, "4.3.2", "Service shutting down, closing connection");
export const TOO_MANY_ERRORS = reply(421, "4.7.0", "Too many errors, closing connection");
export const TOO_BUSY = reply(421, "4.7.0", "Too many connections, try again later");
export const AUTH_THROTTLED = reply(
  421,
  "4.7.0",
  "Too many failed authentications, try again later",
);
export const TLS_NOT_AVAILABLE = reply(454, "4.7.0", "TLS not available");
export const STORAGE_FAILED = reply(451, "4.3.0", "Temporary storage failure, try again later");
export const TOO_MANY_RECIPIENTS = reply(452, "4.5.3", "Too many recipients");
export const TEMP_AUTH_FAILURE = reply(454, "4.7.0", "Temporary authentication failure");

// --- 5xx ---------------------------------------------------------------------------------

export const UNKNOWN_COMMAND = reply(500, "5.5.1", "Command unrecognized");
export const LINE_TOO_LONG = reply(500, "5.5.2", "Line too long");
export const BAD_UTF8 = reply(500, "5.5.2", "Invalid UTF-8 or control characters in command");
export const SYNTAX = reply(501, "5.5.2", "Syntax error in parameters or arguments");
export const AUTH_CANCELLED = reply(501, "5.0.0", "Authentication cancelled");
export const BAD_BASE64 = reply(501, "5.5.2", "Invalid base64 data");
export const BAD_SENDER_SYNTAX = reply(501, "5.1.7", "Bad sender address syntax");
export const BAD_RECIPIENT_SYNTAX = reply(501, "5.1.3", "Bad recipient address syntax");
export const NOT_IMPLEMENTED = reply(502, "5.5.1", "Command not implemented");
export const BAD_SEQUENCE = reply(503, "5.5.1", "Bad sequence of commands");
export const NEED_HELO = reply(503, "5.5.1", "Send EHLO/HELO first");
export const NEED_MAIL = reply(503, "5.5.1", "Need MAIL command");
export const NEED_RCPT = reply(503, "5.5.1", "Need RCPT command");
export const NESTED_MAIL = reply(503, "5.5.1", "Nested MAIL command");
export const IN_TRANSACTION = reply(503, "5.5.1", "Not allowed during a mail transaction");
export const ALREADY_AUTHENTICATED = reply(503, "5.5.1", "Already authenticated");
export const ALREADY_TLS = reply(503, "5.5.1", "TLS already active");
export const DATA_IN_BDAT = reply(503, "5.5.1", "DATA not allowed in a BDAT transaction");
export const UNKNOWN_MECHANISM = reply(504, "5.5.4", "Unrecognized authentication mechanism");
export const AUTH_REQUIRED = reply(530, "5.7.0", "Authentication required");
export const AUTH_FAILED = reply(535, "5.7.8", "Authentication credentials invalid");
/** RFC 4954 §6: AUTH over a connection that is not encrypted. */
export const ENCRYPTION_REQUIRED = reply(
  538,
  "5.7.11",
  "Encryption required for requested authentication mechanism",
);
export const NO_SUCH_USER = reply(550, "5.1.1", "No such user here");
export const RELAY_DENIED = reply(550, "5.7.1", "Relaying denied");
export const MESSAGE_TOO_BIG = reply(552, "5.3.4", "Message size exceeds fixed maximum");
export const SENDER_NOT_OWNED = reply(553, "5.7.1", "Sender address not owned by user");
/** RFC 6409 §6.1: a From:/Sender: header address the authenticated user does not own. */
export const AUTHOR_NOT_OWNED = reply(550, "5.7.1", "From: address not owned by user");
/** RFC 6531 §3.5: a non-ASCII address in a transaction without SMTPUTF8. */
export const NEEDS_SMTPUTF8 = reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
export const NO_VALID_RECIPIENTS = reply(554, "5.5.1", "No valid recipients");
/** RFC 5321 §4.1.1.11: MAIL/RCPT parameter not recognized or not implemented. */
export const UNKNOWN_PARAMETER = reply(555, "5.5.4", "Parameter not recognized");
/** RFC 8689 §4.1: REQUIRETLS over a connection without TLS. */
export const REQUIRETLS_NEEDS_TLS = reply(530, "5.7.10", "REQUIRETLS needs a TLS connection");
