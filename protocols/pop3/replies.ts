/**
 * POP3 reply composition (RFC 1939 §3, RFC 2449 §8): status lines, multi-line responses,
 * SASL continuations. Pure: no I/O.
 *
 * @module
 */

/** RFC 2449 §8 extended response codes (and RFC 3206 AUTH / SYS). */
export const RESP = {
  /** RFC 2449 §8.1.2: the maildrop is locked by another session. */
  inUse: "IN-USE",
  /** RFC 2449 §8.1.1: logging in again this soon is refused. */
  loginDelay: "LOGIN-DELAY",
  /** RFC 3206 §4: a temporary system problem; trying later may work. */
  sysTemp: "SYS/TEMP",
  /** RFC 3206 §4: a permanent system problem. */
  sysPerm: "SYS/PERM",
  /** RFC 3206 §5: the failure is about the credentials or the authentication policy. */
  auth: "AUTH",
} as const;

/** One of the response codes we send. */
export type RespCode = typeof RESP[keyof typeof RESP];

/** `+OK text` */
export function ok(text: string): string {
  return text === "" ? "+OK\r\n" : `+OK ${text}\r\n`;
}

/** `-ERR [CODE] text` */
export function err(text: string, code: RespCode | null = null): string {
  return code ? `-ERR [${code}] ${text}\r\n` : `-ERR ${text}\r\n`;
}

/**
 * A multi-line response (RFC 1939 §3): `+OK first`, the lines (dot-stuffed), then ".".
 * Lines must not contain CR or LF.
 */
export function multiline(first: string, lines: readonly string[]): string {
  let out = ok(first);
  for (const l of lines) out += (l.startsWith(".") ? "." : "") + l + "\r\n";
  return out + ".\r\n";
}

/** RFC 5034 §4: a server challenge, "+ " and the challenge in base64. */
export function continuation(base64: string): string {
  return `+ ${base64}\r\n`;
}
