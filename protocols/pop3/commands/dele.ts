/**
 * DELE and RSET (RFC 1939 §5): deletion marks, applied only in the UPDATE state.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { syntaxError } from "../errors.ts";
import { parseMessageNumber } from "../parser.ts";
import { ok } from "../replies.ts";
import { maildropOf } from "./open_maildrop.ts";

// RFC 1939 §5: DELE msg marks the message; it is removed only in UPDATE (after QUIT).
// Deleting a message already marked is an error.
export const dele: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length !== 1) throw syntaxError("DELE takes one argument");
  const n = parseMessageNumber(cmd.args[0]);
  maildropOf(ctx).delete(n);
  ctx.send(ok(`Message ${n} deleted`));
};

// RFC 1939 §5: RSET unmarks every message marked deleted.
export const rset: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("RSET takes no arguments");
  const md = maildropOf(ctx);
  md.reset();
  ctx.send(ok(`Maildrop has ${md.count} messages (${md.size} octets)`));
};
