/**
 * The scan-listing family: LIST (RFC 1939 §5) and UIDL (RFC 1939 §7).
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { syntaxError } from "../errors.ts";
import { parseMessageNumber } from "../parser.ts";
import { multiline, ok } from "../replies.ts";
import { maildropOf } from "./open_maildrop.ts";

// RFC 1939 §5: LIST [msg]. With an argument, one "+OK n size" line; without, a multi-line
// listing of every message not marked deleted.
export const list: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 1) throw syntaxError("LIST takes at most one argument");
  const md = maildropOf(ctx);
  if (cmd.args.length === 1) {
    const n = parseMessageNumber(cmd.args[0]);
    ctx.send(ok(`${n} ${md.get(n).size}`));
    return;
  }
  const lines: string[] = [];
  for (const [n, m] of md.live()) lines.push(`${n} ${m.size}`);
  ctx.send(multiline(`${md.count} messages (${md.size} octets)`, lines));
};

// RFC 1939 §7: UIDL [msg]. The unique-id is stable across sessions (see Maildrop.uniqueId).
export const uidl: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 1) throw syntaxError("UIDL takes at most one argument");
  const md = maildropOf(ctx);
  if (cmd.args.length === 1) {
    const n = parseMessageNumber(cmd.args[0]);
    ctx.send(ok(`${n} ${md.uniqueId(n)}`));
    return;
  }
  const lines: string[] = [];
  for (const [n] of md.live()) lines.push(`${n} ${md.uniqueId(n)}`);
  ctx.send(multiline("Unique-ID listing follows", lines));
};
