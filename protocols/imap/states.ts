/**
 * State legality as data (RFC 9051 §6): which commands each connection state allows. The
 * session checks this table once, before dispatch; handlers never re-check their state.
 *
 * @module
 */
import type { SessionState } from "./context.ts";

/** RFC 9051 §6.1: valid in any state. */
const ANY = ["CAPABILITY", "NOOP", "LOGOUT", "ID"]; // ID: RFC 2971 §3.1

/** RFC 9051 §6.2: not-authenticated state. */
const NOT_AUTHENTICATED = [...ANY, "STARTTLS", "AUTHENTICATE", "LOGIN"];

/** RFC 9051 §6.3: authenticated state (also valid when selected). */
const AUTHENTICATED = [
  ...ANY,
  "ENABLE",
  "SELECT",
  "EXAMINE",
  "CREATE",
  "DELETE",
  "RENAME",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "LIST",
  "LSUB", // RFC 3501 §6.3.9 (IMAP4rev1)
  "NAMESPACE",
  "STATUS",
  "APPEND",
  "IDLE", // RFC 2177: also without a selected mailbox
  "GETQUOTA", // RFC 9208 §4.1
  "GETQUOTAROOT",
  "SETQUOTA",
  "COMPRESS", // RFC 4978 §3
];

/** RFC 9051 §6.4: selected state. */
const SELECTED = [
  ...AUTHENTICATED,
  "CHECK", // RFC 3501 §6.4.1 (IMAP4rev1)
  "CLOSE",
  "UNSELECT", // RFC 3691
  "EXPUNGE",
  "UID EXPUNGE", // RFC 4315 §2.1
  "SEARCH",
  "UID SEARCH",
  "FETCH",
  "UID FETCH",
  "STORE",
  "UID STORE",
  "COPY",
  "UID COPY",
  "MOVE", // RFC 6851
  "UID MOVE",
  "SORT", // RFC 5256 §3
  "UID SORT",
  "THREAD", // RFC 5256 §4
  "UID THREAD",
];

/** The table: state -> verbs it allows. */
export const STATE_COMMANDS: Readonly<Record<SessionState, ReadonlySet<string>>> = {
  "not-authenticated": new Set(NOT_AUTHENTICATED),
  "authenticated": new Set(AUTHENTICATED),
  "selected": new Set(SELECTED),
  "logout": new Set(),
};

/** Whether `verb` may run in `state`. */
export function allowedIn(state: SessionState, verb: string): boolean {
  return STATE_COMMANDS[state].has(verb);
}

/**
 * RFC 9051 §7.5.1: verbs during (and at the end of) which EXPUNGE must not be sent,
 * because the client relies on sequence numbers staying put.
 */
export const NO_EXPUNGE_VERBS: ReadonlySet<string> = new Set([
  "FETCH",
  "STORE",
  "SEARCH",
  "SORT", // RFC 5256: they answer with sequence numbers, like SEARCH
  "THREAD",
]);
