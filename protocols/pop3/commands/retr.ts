/**
 * RETR (RFC 1939 §5) and TOP (RFC 1939 §7): message bytes, byte-exact and dot-stuffed.
 *
 * @module
 */
import type { CommandHandler, SessionContext } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import type { DropMessage } from "../maildrop.ts";
import { dotStuffed, topOf } from "../message_text.ts";
import { parseLineCount, parseMessageNumber } from "../parser.ts";
import { ok } from "../replies.ts";
import { maildropOf } from "./open_maildrop.ts";

async function readMessage(ctx: SessionContext, m: DropMessage): Promise<Uint8Array> {
  try {
    return await ctx.deps.store.readBlob(m.blobId);
  } catch {
    // Another session (IMAP) may have expunged it since our login.
    throw new Pop3Error("Message is no longer available");
  }
}

// RFC 1939 §5: RETR msg -> "+OK" and the message, dot-stuffed, ending with ".".
// Nothing is marked here: \Seen is set only in the UPDATE state (commands/quit.ts).
export const retr: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length !== 1) throw syntaxError("RETR takes one argument");
  const n = parseMessageNumber(cmd.args[0]);
  const md = maildropOf(ctx);
  const m = md.get(n);
  const bytes = await readMessage(ctx, m);
  ctx.send(ok(`${bytes.length} octets`));
  ctx.send(dotStuffed(bytes));
  md.markRetrieved(n);
};

// RFC 1939 §7: TOP msg n -> the header, the blank line, and n lines of the body.
export const top: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length !== 2) throw syntaxError("TOP takes a message number and a line count");
  const n = parseMessageNumber(cmd.args[0]);
  const lines = parseLineCount(cmd.args[1]);
  const m = maildropOf(ctx).get(n);
  const bytes = await readMessage(ctx, m);
  ctx.send(ok("Top of message follows"));
  ctx.send(dotStuffed(topOf(bytes, lines)));
};
