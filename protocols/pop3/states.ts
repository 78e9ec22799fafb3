/**
 * Which commands each POP3 state allows (RFC 1939 §3-§7, RFC 2449 §5, RFC 2595 §4,
 * RFC 5034 §4). Checked once, by the session, before dispatch.
 *
 * @module
 */

/** RFC 1939 §3: the session states. */
export type Pop3State = "AUTHORIZATION" | "TRANSACTION" | "UPDATE";

/** The state table. */
export const STATE_COMMANDS: Readonly<Record<Pop3State, ReadonlySet<string>>> = {
  // RFC 1939 §4, §7 (USER/PASS); RFC 2595 §4 (STLS); RFC 5034 §4 (AUTH); RFC 2449 §5 (CAPA).
  AUTHORIZATION: new Set(["CAPA", "STLS", "USER", "PASS", "AUTH", "QUIT"]),
  // RFC 1939 §5, §7; RFC 2449 §5: CAPA is valid in both states.
  TRANSACTION: new Set([
    "CAPA",
    "STAT",
    "LIST",
    "RETR",
    "DELE",
    "NOOP",
    "RSET",
    "TOP",
    "UIDL",
    "QUIT",
  ]),
  // RFC 1939 §6: UPDATE is entered by QUIT and ends the session; no command follows.
  UPDATE: new Set(),
};

/** True when `verb` may be used in `state`. */
export function allowedIn(state: Pop3State, verb: string): boolean {
  return STATE_COMMANDS[state].has(verb);
}
