/**
 * NOOP (RFC 1939 §5).
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { syntaxError } from "../errors.ts";
import { ok } from "../replies.ts";

// RFC 1939 §5: NOOP -> +OK (it also restarts the autologout timer, as every command does).
export const noop: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("NOOP takes no arguments");
  ctx.send(ok(""));
};
