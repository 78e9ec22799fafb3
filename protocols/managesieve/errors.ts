/**
 * The one error a ManageSieve command throws; the session turns it into `NO` (or `BYE`).
 *
 * @module
 */

/** A refused command: `NO (code) "message"` (RFC 5804 §1.3). */
export class ManageSieveError extends Error {
  /** RFC 5804 §1.3 response code, e.g. "NONEXISTENT", "QUOTA/MAXSIZE". */
  readonly code?: string;
  /** Counts toward the bad-command limit. */
  readonly bad: boolean;
  /** Ends the session with BYE instead of NO. */
  readonly close: boolean;
  constructor(message: string, opts: { code?: string; bad?: boolean; close?: boolean } = {}) {
    super(message);
    this.name = "ManageSieveError";
    this.code = opts.code;
    this.bad = opts.bad ?? false;
    this.close = opts.close ?? false;
  }
}
