/**
 * The one error type POP3 handlers throw; the session loop turns it into a `-ERR` reply.
 *
 * @module
 */
import type { RespCode } from "./replies.ts";

/** Options of a Pop3Error. */
export interface Pop3ErrorOptions {
  /** RFC 2449 §8 / RFC 3206 response code, shown as `-ERR [CODE] text`. */
  code?: RespCode;
  /** The client sent something malformed or out of place: counts toward max_bad_commands. */
  bad?: boolean;
  /** Close the connection after the reply (no UPDATE state). */
  close?: boolean;
}

/** A negative reply to one command. */
export class Pop3Error extends Error {
  readonly code: RespCode | null;
  readonly bad: boolean;
  readonly close: boolean;

  constructor(text: string, opts: Pop3ErrorOptions = {}) {
    super(text);
    this.name = "Pop3Error";
    this.code = opts.code ?? null;
    this.bad = opts.bad ?? false;
    this.close = opts.close ?? false;
  }
}

/** A malformed command or argument (counts as a bad command). */
export function syntaxError(text: string): Pop3Error {
  return new Pop3Error(text, { bad: true });
}
