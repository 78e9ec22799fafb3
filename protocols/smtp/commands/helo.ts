/**
 * EHLO and HELO, and the extension list (RFC 5321 §4.1.1.1, §4.1.4).
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import type { CommandHandler, SmtpSession } from "../context.ts";
import { parseHeloArg } from "../parser.ts";
import { authPermitted, startTlsOffered } from "../policy.ts";
import { reply } from "../replies.ts";
import { smtpHook } from "../hooks.ts";

/** The EHLO keywords this session offers, in order (pure). */
export function ehloKeywords(s: SmtpSession): string[] {
  const keywords = [
    "PIPELINING", // RFC 2920
    `SIZE ${s.deps.config.limits.maxMessageBytes}`, // RFC 1870
    "8BITMIME", // RFC 6152
    "ENHANCEDSTATUSCODES", // RFC 2034
  ];
  if (startTlsOffered(s)) keywords.push("STARTTLS"); // RFC 3207
  // RFC 4954 §3 / RFC 8314: AUTH only where it may be used (never in the clear off loopback).
  if (authPermitted(s)) keywords.push(`AUTH ${SASL_MECHANISMS.join(" ")}`);
  keywords.push(
    "SMTPUTF8", // RFC 6531
    "CHUNKING", // RFC 3030
    "DSN", // RFC 3461
  );
  // RFC 8689 §4: REQUIRETLS is advertised only on a TLS-protected session.
  if (s.conn.isTls) keywords.push("REQUIRETLS");
  keywords.push("HELP");
  return keywords;
}

function greet(s: SmtpSession, arg: string, esmtp: boolean): void {
  const name = parseHeloArg(arg);
  // RFC 5321 §4.1.4: EHLO/HELO resets any transaction in progress, like RSET.
  s.resetTransaction();
  s.helo = name;
  s.esmtp = esmtp;
  s.phase = "idle";
}

/** RFC 5321 §4.1.1.1 EHLO: 250 with one extension keyword per line (no enhanced code). */
export const ehlo: CommandHandler = async (s, arg) => {
  greet(s, arg, true);
  await smtpHook(s, "ehlo", { helo: s.helo }); // plugins may refuse the client here
  const first = `${s.deps.config.hostname} Hello ${s.helo} [${s.conn.remoteAddress}]`;
  s.reply(reply(250, "", first, ...ehloKeywords(s)));
};

/** RFC 5321 §4.1.1.1 HELO: plain SMTP, one-line 250. */
export const helo: CommandHandler = async (s, arg) => {
  greet(s, arg, false);
  await smtpHook(s, "ehlo", { helo: s.helo }); // plugins may refuse the client here
  s.reply(reply(250, "", `${s.deps.config.hostname} Hello ${s.helo} [${s.conn.remoteAddress}]`));
};
