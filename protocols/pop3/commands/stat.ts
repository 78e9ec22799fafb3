/**
 * STAT (RFC 1939 §5).
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { syntaxError } from "../errors.ts";
import { ok } from "../replies.ts";
import { maildropOf } from "./open_maildrop.ts";

// RFC 1939 §5: STAT -> "+OK nn mm": messages and octets, not counting deleted messages.
export const stat: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("STAT takes no arguments");
  const md = maildropOf(ctx);
  ctx.send(ok(`${md.count} ${md.size}`));
};
