/**
 * SMTP command-line parsing: verb and argument, RFC 5321 §4.1.2 paths (with RFC 6531 UTF-8),
 * ESMTP parameters, xtext (RFC 3461 §4), BDAT and AUTH arguments.
 *
 * Pure: no I/O. Bad input throws SmtpError with the reply to send.
 *
 * @module
 */
import { isIPv4, isIPv6 } from "node:net";
import {
  BAD_RECIPIENT_SYNTAX,
  BAD_SENDER_SYNTAX,
  BAD_UTF8,
  reply,
  SmtpError,
  SYNTAX,
  withText,
} from "./replies.ts";

/** RFC 5321 §4.5.3.1.4 allows 512 octets; extensions make room for more (RFC 1869 §4.1.2). */
export const MAX_COMMAND_LINE = 4096;
/** Longest address we take (RFC 5321 §4.5.3.1: 64 local + 255 domain, plus "@"). */
const MAX_ADDRESS = 320;

/** A command line split into its verb (upper case) and argument text. */
export interface CommandLine {
  verb: string;
  arg: string;
}

/** An envelope address, parsed. */
export interface Mailbox {
  /** Local part as it goes on the wire: quoted only when it has to be. */
  local: string;
  /** Domain (lower case) or address literal ("[192.0.2.1]"); "" only for bare postmaster. */
  domain: string;
  /** "local@domain", or "postmaster" for the bare RFC 5321 §4.5.1 form. */
  address: string;
  /** False when the address has non-ASCII characters (RFC 6531 needs SMTPUTF8). */
  ascii: boolean;
}

/** ESMTP parameters: upper-cased keyword -> value (null for a keyword without "="). */
export type Params = Map<string, string | null>;

/** MAIL FROM / RCPT TO parsed; `mailbox` is null for the null reverse-path "<>". */
export interface PathCommand {
  mailbox: Mailbox | null;
  params: Params;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a command line. Invalid UTF-8 and control characters (other than HT) are refused:
 * they are never valid SMTP and can smuggle text into logs or headers.
 */
export function decodeCommand(line: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(line);
  } catch {
    throw new SmtpError(BAD_UTF8);
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) throw new SmtpError(BAD_UTF8);
  return text;
}

/** RFC 5321 §4.1.1: "verb [SP argument]"; the verb is case-insensitive. */
export function parseCommandLine(text: string): CommandLine {
  const trimmed = text.replace(/^[ \t]+|[ \t]+$/g, "");
  const sp = trimmed.search(/[ \t]/);
  const verb = (sp < 0 ? trimmed : trimmed.slice(0, sp)).toUpperCase();
  const arg = sp < 0 ? "" : trimmed.slice(sp + 1).replace(/^[ \t]+/, "");
  return { verb, arg };
}

// --- RFC 5321 §4.1.2 grammar ------------------------------------------------------------

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]$/u;
const LET_DIG = /^[A-Za-z0-9\u0080-\u{10FFFF}]$/u;

function isAtext(ch: string): boolean {
  return ATEXT.test(ch);
}

/** Dot-string = Atom *("." Atom), Atom = 1*atext (RFC 6531 adds UTF8-non-ascii). */
export function isDotString(s: string): boolean {
  if (s === "") return false;
  for (const atom of s.split(".")) {
    if (atom === "") return false;
    for (const ch of atom) if (!isAtext(ch)) return false;
  }
  return true;
}

/** Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]. No trailing dot. */
export function isDomain(s: string): boolean {
  if (s === "" || s.length > 255) return false;
  for (const label of s.split(".")) {
    const chars = [...label];
    if (chars.length === 0 || chars.length > 63) return false;
    if (!LET_DIG.test(chars[0]) || !LET_DIG.test(chars[chars.length - 1])) return false;
    for (const ch of chars) if (ch !== "-" && !LET_DIG.test(ch)) return false;
  }
  return true;
}

/** address-literal = "[" (IPv4 / "IPv6:" IPv6 / General-address-literal) "]". */
export function isAddressLiteral(s: string): boolean {
  if (!s.startsWith("[") || !s.endsWith("]")) return false;
  const inner = s.slice(1, -1);
  if (/^ipv6:/i.test(inner)) return isIPv6(inner.slice(5));
  // General-address-literal needs a registered tag; none is, so only IPv4 remains.
  return isIPv4(inner) && /^\d+(\.\d+){3}$/.test(inner);
}

/** Unquotes a Quoted-string's content, or null when it breaks RFC 5321 §4.1.2. */
function unquote(content: string, utf8: boolean): string | null {
  let out = "";
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if (c === 0x5c) {
      // quoted-pairSMTP = %d92 %d32-126
      const n = content.charCodeAt(++i);
      if (!(n >= 32 && n <= 126)) return null;
      out += content[i];
    } else if ((c >= 32 && c <= 126 && c !== 0x22) || (utf8 && c >= 0x80)) {
      out += content[i];
    } else {
      return null;
    }
  }
  return out;
}

/** The wire form of a local part: a Dot-string when possible, else a Quoted-string. */
function canonicalLocal(value: string): string {
  if (isDotString(value)) return value;
  return `"${value.replace(/(["\\])/g, "\\$1")}"`;
}

/**
 * Parses "<...>" at the start of `s` (RFC 5321 §4.1.2 Path / "<>").
 * A source route ("<@a,@b:user@c>") is accepted and ignored (RFC 5321 §4.1.2 and Appendix C:
 * the final mailbox decides). Returns the rest of the line after ">".
 */
export function parsePath(
  s: string,
  opts: { allowNull: boolean; allowPostmaster: boolean; bad: ReturnType<typeof reply> },
): { mailbox: Mailbox | null; rest: string } {
  const fail = (r = opts.bad): never => {
    throw new SmtpError(r);
  };
  if (!s.startsWith("<")) fail();
  let i = 1;
  if (s[i] === ">") {
    if (!opts.allowNull) fail();
    return { mailbox: null, rest: s.slice(2) };
  }
  // A-d-l = At-domain *( "," At-domain ) ":"
  if (s[i] === "@") {
    // The ":" that ends the route is outside any "[...]" (an IPv6 literal has colons).
    let colon = -1;
    for (let j = i, depth = 0; j < s.length && colon < 0; j++) {
      if (s[j] === "[") depth++;
      else if (s[j] === "]") depth--;
      else if (s[j] === ":" && depth === 0) colon = j;
    }
    if (colon < 0) fail();
    for (const hop of s.slice(i, colon).split(",")) {
      if (!hop.startsWith("@") || !(isDomain(hop.slice(1)) || isAddressLiteral(hop.slice(1)))) {
        fail();
      }
    }
    i = colon + 1;
  }
  // Local-part = Dot-string / Quoted-string
  let local: string;
  if (s[i] === '"') {
    let j = i + 1;
    while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
    if (j >= s.length) fail();
    const value = unquote(s.slice(i + 1, j), true);
    if (value === null) fail();
    local = canonicalLocal(value!);
    i = j + 1;
  } else {
    let j = i;
    while (j < s.length && s[j] !== "@" && s[j] !== ">") j++;
    local = s.slice(i, j);
    if (!isDotString(local)) fail();
    i = j;
  }
  if (s[i] === ">") {
    // RFC 5321 §4.1.1.3 / §4.5.1: "<Postmaster>" without a domain must be accepted.
    if (opts.allowPostmaster && local.toLowerCase() === "postmaster") {
      return {
        mailbox: { local, domain: "", address: "postmaster", ascii: true },
        rest: s.slice(i + 1),
      };
    }
    fail();
  }
  if (s[i] !== "@") fail();
  const close = s.indexOf(">", i);
  if (close < 0) fail();
  const rawDomain = s.slice(i + 1, close);
  // A bad domain is a syntax error of the address like any other (RFC 3463 §3.2: X.1.7 for
  // the sender, X.1.3 for a recipient, "any field in the address"); X.1.2 would say the
  // destination system does not exist, which a syntax error cannot tell.
  const badDomain = withText(opts.bad, `${opts.bad.lines[0]}: invalid domain`);
  let domain: string;
  if (rawDomain.startsWith("[")) {
    if (!isAddressLiteral(rawDomain)) fail(badDomain);
    domain = rawDomain;
  } else {
    // A trailing dot ("user@example.test.") is not a Domain: refuse rather than guess.
    if (!isDomain(rawDomain)) fail(badDomain);
    domain = rawDomain.toLowerCase();
  }
  const address = `${local}@${domain}`;
  if (new TextEncoder().encode(address).length > MAX_ADDRESS) fail();
  // deno-lint-ignore no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(address);
  return { mailbox: { local, domain, address, ascii }, rest: s.slice(close + 1) };
}

/** esmtp-param *(SP esmtp-param); esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). */
export function parseParams(s: string): Params {
  const params: Params = new Map();
  const text = s.trim();
  if (text === "") return params;
  for (const item of text.split(/ +/)) {
    const eq = item.indexOf("=");
    const key = (eq < 0 ? item : item.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : item.slice(eq + 1);
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) {
      throw new SmtpError(reply(501, "5.5.4", "Invalid parameter syntax"));
    }
    // esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii)
    if (value !== null && !/^[\x21-\x3c\x3e-\x7e\u0080-\u{10FFFF}]+$/u.test(value)) {
      throw new SmtpError(reply(501, "5.5.4", `Invalid value for ${key}`));
    }
    if (params.has(key)) throw new SmtpError(reply(501, "5.5.4", `Duplicate parameter ${key}`));
    params.set(key, value);
  }
  return params;
}

/**
 * RFC 5321 §4.1.1.2 "MAIL FROM:<reverse-path> [SP params]".
 * A space after the colon is tolerated (common in the wild, harmless).
 */
export function parseMailArg(arg: string): PathCommand {
  const m = /^FROM:[ ]?/i.exec(arg);
  if (!m) throw new SmtpError(withText(SYNTAX, "Syntax: MAIL FROM:<address>"));
  const { mailbox, rest } = parsePath(arg.slice(m[0].length), {
    allowNull: true,
    allowPostmaster: false,
    bad: BAD_SENDER_SYNTAX,
  });
  return { mailbox, params: paramsAfterPath(rest) };
}

/** RFC 5321 §4.1.1.3 "RCPT TO:<forward-path> [SP params]" (also "<Postmaster>"). */
export function parseRcptArg(arg: string): PathCommand & { mailbox: Mailbox } {
  const m = /^TO:[ ]?/i.exec(arg);
  if (!m) throw new SmtpError(withText(SYNTAX, "Syntax: RCPT TO:<address>"));
  const { mailbox, rest } = parsePath(arg.slice(m[0].length), {
    allowNull: false,
    allowPostmaster: true,
    bad: BAD_RECIPIENT_SYNTAX,
  });
  return { mailbox: mailbox!, params: paramsAfterPath(rest) };
}

function paramsAfterPath(rest: string): Params {
  if (rest === "") return new Map();
  if (!rest.startsWith(" ")) throw new SmtpError(SYNTAX);
  return parseParams(rest);
}

// --- RFC 3461 §4 xtext -------------------------------------------------------------------

/** True for valid xtext: xchar (%d33-42 / %d44-60 / %d62-126) or "+" 2 upper-case HEXDIG. */
export function isXtext(s: string): boolean {
  return /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(s);
}

/** Decodes xtext; call isXtext first. */
export function decodeXtext(s: string): string {
  return s.replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Encodes a string as xtext (used for ORCPT values we make up for alias targets). */
export function encodeXtext(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    out += b >= 33 && b <= 126 && b !== 0x2b && b !== 0x3d
      ? String.fromCharCode(b)
      : `+${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

// --- other arguments ---------------------------------------------------------------------

/**
 * RFC 5321 §4.1.1.1 EHLO/HELO argument: a domain or address literal. We are liberal (a
 * client's name is never grounds for refusal, §4.1.4) but keep it safe for a Received header.
 */
export function parseHeloArg(arg: string): string {
  const name = arg.trim().split(/\s+/)[0] ?? "";
  if (name === "") throw new SmtpError(reply(501, "5.5.4", "EHLO/HELO needs a domain name"));
  const ok = /^\[[A-Za-z0-9:.\-]+\]$/.test(name) ||
    /^[A-Za-z0-9_\-.\u0080-\u{10FFFF}]+$/u.test(name);
  if (!ok || name.length > 255) {
    throw new SmtpError(reply(501, "5.5.4", "Invalid EHLO/HELO domain"));
  }
  return name;
}

/** RFC 3030 §2: "BDAT <chunk-size> [SP LAST]". */
export function parseBdatArg(arg: string): { size: number; last: boolean } {
  const m = /^(\d{1,15})(?: +(LAST))? *$/i.exec(arg);
  if (!m) throw new SmtpError(withText(SYNTAX, "Syntax: BDAT <size> [LAST]"));
  return { size: Number(m[1]), last: m[2] !== undefined };
}

/** RFC 4954 §4: "AUTH mechanism [SP initial-response]". */
export function parseAuthArg(arg: string): { mechanism: string; initial: string | null } {
  const m = /^([A-Za-z0-9_-]{1,20})(?: +(\S+))? *$/.exec(arg);
  if (!m) throw new SmtpError(withText(SYNTAX, "Syntax: AUTH mechanism [initial-response]"));
  return { mechanism: m[1].toUpperCase(), initial: m[2] ?? null };
}
