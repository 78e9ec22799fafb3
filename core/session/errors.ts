/**
 * How a thrown error becomes a protocol reply, for all three sessions: the errors that end
 * the connection pass through untouched; every other error is handed to the protocol's own
 * mapping (its typed error as it is, a bug or backend failure as "try again later"); and the
 * bad-command count that closes a session after `limits.max_bad_commands`.
 *
 * Invariants:
 * - A command never swallows the end of its connection: TimeoutError (with DeadlineError),
 *   ConnectionClosedError and ShutdownError, and anything thrown once the connection is
 *   closed, reach the session loop, which says its goodbye from `endReason`.
 * - The wire text is the protocol's: this module only classifies.
 *
 * @module
 */
import {
  type Connection,
  ConnectionClosedError,
  DeadlineError,
  ShutdownError,
  TimeoutError,
} from "../connection.ts";

/** True for the errors that end the connection rather than fail one command. */
export function endsConnection(e: unknown): boolean {
  return e instanceof TimeoutError || e instanceof ConnectionClosedError ||
    e instanceof ShutdownError;
}

/**
 * The failure of one command as the protocol's reply error. Rethrows what ends the
 * connection; `toReply` maps the rest (it logs what is not the protocol's own error type).
 */
export function commandFailure<R>(
  e: unknown,
  conn: Connection,
  isReply: (e: unknown) => e is R,
  toReply: (e: Error) => R,
): R {
  if (endsConnection(e) || (conn.closed && !isReply(e))) throw e;
  return isReply(e) ? e : toReply(e as Error);
}

/**
 * Why a session ended, for its goodbye: a line or transfer too slow (DeadlineError), the idle
 * timer (TimeoutError), a server shutdown, the client gone, or something unexpected.
 */
export type EndReason = "too_slow" | "idle" | "shutdown" | "closed" | "error";

/** Classifies the error that ended a session loop. */
export function endReason(e: unknown): EndReason {
  if (e instanceof DeadlineError) return "too_slow";
  if (e instanceof TimeoutError) return "idle";
  if (e instanceof ShutdownError) return "shutdown";
  if (e instanceof ConnectionClosedError) return "closed";
  return "error";
}

/** Counts a session's bad commands (syntax, sequence, unknown verbs). */
export class BadCommands {
  readonly #max: number;
  #count = 0;

  /** `max`: `limits.max_bad_commands`; the session closes when the count reaches it. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Counts one; true when that was one too many and the session must close. */
  count(): boolean {
    return ++this.#count >= this.#max;
  }
}
