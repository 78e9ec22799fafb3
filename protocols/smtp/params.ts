/**
 * Meaning of the ESMTP parameters we advertise, on MAIL FROM and RCPT TO.
 * Pure: validates a parsed parameter map and returns typed values, or throws SmtpError.
 *
 * MAIL: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET / ENVID (RFC 3461),
 * AUTH (RFC 4954 §5), REQUIRETLS (RFC 8689).  RCPT: NOTIFY / ORCPT (RFC 3461).
 *
 * @module
 */
import { isXtext, type Params } from "./parser.ts";
import {
  MESSAGE_TOO_BIG,
  reply,
  REQUIRETLS_NEEDS_TLS,
  SmtpError,
  UNKNOWN_PARAMETER,
  withText,
} from "./replies.ts";

/** MAIL FROM parameters, validated. */
export interface MailParams {
  /** RFC 1870 declared size, or null. */
  size: number | null;
  /** RFC 6152 BODY=, or null when not given. */
  body: "7BIT" | "8BITMIME" | null;
  /** RFC 6531: this transaction may carry UTF-8 addresses and headers. */
  smtputf8: boolean;
  /** RFC 3461 §4.3 RET=. */
  ret: "FULL" | "HDRS" | null;
  /** RFC 3461 §4.4 ENVID= (still xtext-encoded, as it is passed on). */
  envid: string | null;
  /** RFC 4954 §5 AUTH= (xtext, informational only; never trusted). */
  auth: string | null;
  /** RFC 8689 REQUIRETLS. */
  requireTls: boolean;
}

/** RCPT TO parameters, validated. */
export interface RcptParams {
  /** RFC 3461 §4.1 NOTIFY=: ["NEVER"] or a subset of SUCCESS, FAILURE, DELAY. */
  notify: string[] | null;
  /** RFC 3461 §4.2 ORCPT=addr-type;xtext, as given. */
  orcpt: string | null;
}

function bad(text: string): SmtpError {
  return new SmtpError(reply(501, "5.5.4", text));
}

/** Validates MAIL FROM parameters against what this session advertised. */
export function mailParams(
  params: Params,
  ctx: { tls: boolean; maxMessageBytes: number },
): MailParams {
  const out: MailParams = {
    size: null,
    body: null,
    smtputf8: false,
    ret: null,
    envid: null,
    auth: null,
    requireTls: false,
  };
  for (const [key, value] of params) {
    switch (key) {
      // RFC 1870 §6: SIZE=<decimal>; over our limit -> 552 5.3.4 at once.
      case "SIZE": {
        if (value === null || !/^\d{1,20}$/.test(value)) throw bad("SIZE needs a number");
        out.size = Number(value);
        if (out.size > ctx.maxMessageBytes) throw new SmtpError(MESSAGE_TOO_BIG);
        break;
      }
      // RFC 6152 §2: BODY=7BIT / 8BITMIME. BINARYMIME (RFC 3030) is not offered.
      case "BODY": {
        const v = value?.toUpperCase();
        if (v !== "7BIT" && v !== "8BITMIME") {
          throw new SmtpError(withText(UNKNOWN_PARAMETER, "BODY must be 7BIT or 8BITMIME"));
        }
        out.body = v;
        break;
      }
      // RFC 6531 §3.4: SMTPUTF8 takes no value.
      case "SMTPUTF8":
        if (value !== null) throw bad("SMTPUTF8 takes no value");
        out.smtputf8 = true;
        break;
      // RFC 3461 §4.3: RET=FULL / HDRS.
      case "RET": {
        const v = value?.toUpperCase();
        if (v !== "FULL" && v !== "HDRS") throw bad("RET must be FULL or HDRS");
        out.ret = v;
        break;
      }
      // RFC 3461 §4.4: ENVID=xtext, at most 100 characters.
      case "ENVID":
        if (value === null || value.length > 100 || !isXtext(value)) throw bad("Invalid ENVID");
        out.envid = value;
        break;
      // RFC 4954 §5: AUTH=<mailbox>|<> in xtext; accepted but never trusted.
      case "AUTH":
        if (value === null || !isXtext(value)) throw bad("Invalid AUTH parameter");
        out.auth = value;
        break;
      // RFC 8689 §4.1: only meaningful (and only advertised) over TLS.
      case "REQUIRETLS":
        if (value !== null) throw bad("REQUIRETLS takes no value");
        if (!ctx.tls) throw new SmtpError(REQUIRETLS_NEEDS_TLS);
        out.requireTls = true;
        break;
      // RFC 5321 §4.1.1.11: a parameter we do not know -> 555.
      default:
        throw new SmtpError(withText(UNKNOWN_PARAMETER, `Parameter ${key} not recognized`));
    }
  }
  return out;
}

const NOTIFY_VALUES = new Set(["SUCCESS", "FAILURE", "DELAY"]);

/** Validates RCPT TO parameters. */
export function rcptParams(params: Params): RcptParams {
  const out: RcptParams = { notify: null, orcpt: null };
  for (const [key, value] of params) {
    switch (key) {
      // RFC 3461 §4.1: NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY.
      case "NOTIFY": {
        const items = (value ?? "").toUpperCase().split(",");
        const unique = new Set(items);
        const ok = unique.size === items.length && (
          (items.length === 1 && items[0] === "NEVER") ||
          items.every((i) => NOTIFY_VALUES.has(i))
        );
        if (!ok) throw bad("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
        out.notify = items;
        break;
      }
      // RFC 3461 §4.2: ORCPT=addr-type ";" xtext (RFC 6533 utf-8 addresses pass as given).
      case "ORCPT": {
        const m = value === null ? null : /^([A-Za-z0-9-]+);(.+)$/.exec(value);
        if (!m || value!.length > 500) throw bad("Invalid ORCPT");
        if (m[1].toLowerCase() === "rfc822" && !isXtext(m[2])) throw bad("Invalid ORCPT");
        out.orcpt = value;
        break;
      }
      default:
        throw new SmtpError(withText(UNKNOWN_PARAMETER, `Parameter ${key} not recognized`));
    }
  }
  return out;
}
