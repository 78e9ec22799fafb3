/**
 * Header fields the server adds: trace fields (RFC 5321 §4.4), and Date / Message-ID for
 * submission (RFC 6409 §8). Pure composition, no I/O.
 *
 * @module
 */

import { rfc5322Date } from "../lib/dates.ts";

/** RFC 5321 §4.1.3 address literal for an IP: "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
export function addressLiteral(ip: string): string {
  return ip.includes(":") ? `[IPv6:${ip}]` : `[${ip}]`;
}

/** What a Received field says about one transaction. */
export interface ReceivedInfo {
  /** The EHLO/HELO name. */
  helo: string;
  clientIp: string;
  hostname: string;
  /** RFC 3848 / RFC 6531 §4.3 "with" keyword: SMTP, ESMTP, ESMTPSA, UTF8SMTPS, ... */
  protocol: string;
  id: string;
  /** The single recipient, when there is exactly one (RFC 5321 §4.4 "for"). */
  for?: string;
  tls?: { protocol: string; cipher: string } | null;
  date: number;
}

/**
 * RFC 3848 / RFC 6531 §4.3 "with" value: ESMTP plus S (TLS) and A (authenticated); UTF8SMTP*
 * for SMTPUTF8 transactions; SMTP after HELO.
 */
export function withProtocol(
  o: { esmtp: boolean; tls: boolean; auth: boolean; utf8: boolean },
): string {
  if (!o.esmtp) return "SMTP";
  const base = o.utf8 ? "UTF8SMTP" : "ESMTP";
  return base + (o.tls ? "S" : "") + (o.auth ? "A" : "");
}

/**
 * RFC 5321 §4.4 Received: "from HELO (TCP-info) by hostname with PROTO id ID [for <rcpt>];
 * date". We do no reverse DNS, so TCP-info is the address literal alone.
 */
export function receivedHeader(r: ReceivedInfo): string {
  let h = `Received: from ${r.helo} (${addressLiteral(r.clientIp)})\r\n` +
    `\tby ${r.hostname} (denomail) with ${r.protocol} id ${r.id}`;
  if (r.tls?.protocol) h += `\r\n\t(${r.tls.protocol} cipher ${r.tls.cipher})`;
  if (r.for) h += `\r\n\tfor <${r.for}>`;
  return `${h};\r\n\t${rfc5322Date(r.date)}\r\n`;
}

/** RFC 5321 §4.4: Return-Path added at final delivery; "<>" for the null sender. */
export function returnPathHeader(sender: string): string {
  return `Return-Path: <${sender}>\r\n`;
}

const latin1 = new TextDecoder("latin1");

/** The header section of a message as text (up to the first empty line), for lookups. */
export function headerSection(message: Uint8Array): string {
  const limit = Math.min(message.length, 256 * 1024);
  const text = latin1.decode(message.subarray(0, limit));
  const m = /\r?\n\r?\n/.exec(text);
  if (text.startsWith("\r\n") || text.startsWith("\n")) return "";
  return m ? text.slice(0, m.index + 1) : text;
}

/** Does the header section have a field named `name` (case-insensitive)? */
export function hasHeader(section: string, name: string): boolean {
  const escaped = name.replace(/[-]/g, "\\-");
  return new RegExp(`^${escaped}[ \\t]*:`, "im").test(section);
}

/**
 * RFC 6409 §8.2 / §8.3: a submitted message without Date or Message-ID gets one.
 * Returns the header lines to add ("" when nothing is missing).
 */
export function submissionFixups(
  message: Uint8Array,
  o: { hostname: string; id: string; date: number },
): string {
  const section = headerSection(message);
  let add = "";
  if (!hasHeader(section, "Date")) add += `Date: ${rfc5322Date(o.date)}\r\n`;
  if (!hasHeader(section, "Message-ID")) add += `Message-ID: <${o.id}@${o.hostname}>\r\n`;
  return add;
}

// Process-wide on purpose: with the time and randomness it keeps ids of this process apart.
let counter = 0;

/** A short unique id: time, a counter and randomness, in base 36 (an RFC 5322 atom). */
export function newMessageId(now: number): string {
  counter = (counter + 1) % 1296;
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).padStart(7, "0");
  return `${now.toString(36)}${counter.toString(36).padStart(2, "0")}${rand}`.toUpperCase();
}
