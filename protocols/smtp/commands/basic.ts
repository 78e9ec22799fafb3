/**
 * RSET, NOOP, QUIT, VRFY, EXPN, HELP.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import {
  BYE,
  CANNOT_VRFY,
  HELP,
  NOT_IMPLEMENTED,
  OK,
  RESET_OK,
  SmtpError,
  SYNTAX,
} from "../replies.ts";

/** RFC 5321 §4.1.1.5: RSET aborts the transaction; the EHLO state stays. */
export const rset: CommandHandler = (s, arg) => {
  if (arg !== "") throw new SmtpError(SYNTAX);
  s.resetTransaction();
  s.reply(RESET_OK);
  return Promise.resolve();
};

/** RFC 5321 §4.1.1.9: NOOP (an argument is allowed and ignored). */
export const noop: CommandHandler = (s) => {
  s.reply(OK);
  return Promise.resolve();
};

/** RFC 5321 §4.1.1.10: QUIT -> 221, then close. */
export const quit: CommandHandler = (s) => {
  s.reply(BYE);
  s.quit();
  return Promise.resolve();
};

/**
 * RFC 5321 §3.5.3: VRFY answered with 252 (neither confirm nor deny), so it cannot be used
 * to harvest addresses; §7.3 allows disabling it.
 */
export const vrfy: CommandHandler = (s, arg) => {
  if (arg === "") throw new SmtpError(SYNTAX);
  s.reply(CANNOT_VRFY);
  return Promise.resolve();
};

/** RFC 5321 §3.5.3 / §7.3: EXPN is not offered (it would disclose alias members). */
export const expn: CommandHandler = () => {
  throw new SmtpError(NOT_IMPLEMENTED, { bad: false });
};

/** RFC 5321 §4.1.1.8: HELP -> 214. */
export const help: CommandHandler = (s) => {
  s.reply(HELP);
  return Promise.resolve();
};
