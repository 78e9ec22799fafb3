/**
 * State legality as data: which commands each phase allows (RFC 5321 §4.1.4, RFC 3030 §2,
 * RFC 3207 §4, RFC 4954 §4), and the 503 reply for a command out of sequence. The session
 * checks this once before dispatch; handlers never re-check the phase.
 *
 * @module
 */
import type { Phase } from "./context.ts";
import {
  BAD_SEQUENCE,
  DATA_IN_BDAT,
  IN_TRANSACTION,
  NEED_HELO,
  NEED_MAIL,
  NEED_RCPT,
  NESTED_MAIL,
  type Reply,
} from "./replies.ts";

/** Allowed in every phase (RFC 5321 §4.1.4: NOOP, RSET, QUIT, VRFY, HELP "at any time"). */
const ANYTIME = ["NOOP", "RSET", "QUIT", "VRFY", "HELP", "EXPN"] as const;

/** Phase -> commands it allows. */
export const ALLOWED: Readonly<Record<Phase, ReadonlySet<string>>> = {
  // RFC 3207 §4 and RFC 4954 §4: STARTTLS and AUTH come after EHLO.
  init: new Set([...ANYTIME, "EHLO", "HELO"]),
  idle: new Set([...ANYTIME, "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL"]),
  // RFC 5321 §4.1.4: EHLO/HELO inside a transaction reset it, like RSET.
  mail: new Set([...ANYTIME, "EHLO", "HELO", "RCPT"]),
  rcpt: new Set([...ANYTIME, "EHLO", "HELO", "RCPT", "DATA", "BDAT"]),
  // RFC 3030 §2: once BDAT has started, only more BDAT (or RSET/NOOP/QUIT) may follow.
  bdat: new Set(["NOOP", "RSET", "QUIT", "BDAT"]),
};

/** Phase -> verb -> the reply when that verb is not allowed there (else BAD_SEQUENCE). */
const REFUSALS: Readonly<Record<Phase, Readonly<Record<string, Reply>>>> = {
  init: {
    MAIL: NEED_HELO,
    RCPT: NEED_HELO,
    DATA: NEED_HELO,
    BDAT: NEED_HELO,
    AUTH: NEED_HELO,
    STARTTLS: NEED_HELO,
  },
  idle: { RCPT: NEED_MAIL, DATA: NEED_MAIL, BDAT: NEED_MAIL },
  mail: {
    MAIL: NESTED_MAIL,
    DATA: NEED_RCPT,
    BDAT: NEED_RCPT,
    AUTH: IN_TRANSACTION,
    STARTTLS: IN_TRANSACTION,
  },
  rcpt: { MAIL: NESTED_MAIL, AUTH: IN_TRANSACTION, STARTTLS: IN_TRANSACTION },
  bdat: { DATA: DATA_IN_BDAT, MAIL: NESTED_MAIL },
};

/** Null when `verb` may run in `phase`, else the 503 reply to send. */
export function checkSequence(phase: Phase, verb: string): Reply | null {
  if (ALLOWED[phase].has(verb)) return null;
  return REFUSALS[phase][verb] ?? BAD_SEQUENCE;
}
