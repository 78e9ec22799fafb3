/**
 * What every auto-setup format describes: the mail services this server offers to mail
 * programs, under its configured hostname and the production ports (a listener that is
 * not configured is left out), and the checks on the address a client sends.
 *
 * @module
 */
import type { Config, ListenerName } from "../../../core/config.ts";
import type { ServerDeps } from "../../../core/deps.ts";

export interface MailService {
  kind: "imap" | "pop3" | "smtp";
  port: number;
  /** "SSL": TLS from the first byte; "STARTTLS": upgraded. */
  socket: "SSL" | "STARTTLS";
}

/** In order of preference: implicit TLS first (RFC 8314 §3). */
const SERVICES: Array<MailService & { listener: ListenerName }> = [
  { kind: "imap", port: 993, socket: "SSL", listener: "imaps" },
  { kind: "pop3", port: 995, socket: "SSL", listener: "pop3s" },
  { kind: "smtp", port: 465, socket: "SSL", listener: "submissions" },
  { kind: "smtp", port: 587, socket: "STARTTLS", listener: "submission" },
];

export function mailServices(config: Config): MailService[] {
  return SERVICES.filter((s) => config.listeners[s.listener] !== null)
    .map(({ kind, port, socket }) => ({ kind, port, socket }));
}

/** RFC 5321 §4.5.3.1 limits; dot-atom local part (RFC 5322 §3.4.1), no quoted strings. */
const ATEXT = "[A-Za-z0-9!#$%&\\x27*+/=?^_\\x60{|}~-]+";
const ADDRESS = new RegExp(`^${ATEXT}(\\.${ATEXT})*@([A-Za-z0-9-]+\\.)+[A-Za-z0-9-]+$`);
/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9-]+\.)+[A-Za-z0-9-]+$/;

/**
 * The address, lower-cased, if it is well-formed and of a local domain; null otherwise.
 * Only then does it appear in a response (escaped all the same).
 */
export async function localAddress(deps: ServerDeps, raw: string | null): Promise<string | null> {
  if (!raw || raw.length > 254 || !ADDRESS.test(raw)) return null;
  const addr = raw.toLowerCase();
  if (addr.indexOf("@") > 64) return null;
  return (await deps.store.hasDomain(addr.slice(addr.indexOf("@") + 1))) ? addr : null;
}

/** XML character data and attribute values (XML 1.0 §2.4); drops characters XML forbids. */
export function xml(s: string | number): string {
  return String(s)
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}
