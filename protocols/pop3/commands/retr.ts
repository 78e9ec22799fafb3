/**
 * RETR (RFC 1939 §5) and TOP (RFC 1939 §7): message bytes, byte-exact and dot-stuffed,
 * streamed from the store in chunks so a large message never sits in memory whole.
 *
 * @module
 */
import { ConnectionClosedError } from "../../../core/connection.ts";
import { log } from "../../../lib/log.ts";
import type { CommandHandler, SessionContext } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import type { DropMessage } from "../maildrop.ts";
import { DotStuffer, TopCutter } from "../message_text.ts";
import { parseLineCount, parseMessageNumber } from "../parser.ts";
import { ok } from "../replies.ts";
import { maildropOf } from "./open_maildrop.ts";

/** Octets read from the store per step. */
const CHUNK = 64 * 1024;

/**
 * Sends `status` and the message (all of it, or what `cut` keeps), dot-stuffed and
 * terminated. The first chunk is read before anything is sent, so a message another session
 * (IMAP) expunged since our login gets a clean -ERR.
 */
async function sendMessage(
  ctx: SessionContext,
  m: DropMessage,
  status: string,
  cut?: TopCutter,
): Promise<void> {
  const store = ctx.deps.store;
  let chunk: Uint8Array;
  try {
    chunk = await store.readBlobRange(m.blobId, 0, CHUNK);
  } catch {
    throw new Pop3Error("Message is no longer available");
  }
  ctx.send(ok(status));
  const stuffer = new DotStuffer();
  let offset = 0;
  for (;;) {
    ctx.send(stuffer.push(cut ? cut.take(chunk) : chunk));
    offset += chunk.length;
    if (chunk.length < CHUNK || cut?.done) break;
    // More to come: write what we have, so output memory stays bounded.
    await ctx.flush();
    try {
      chunk = await store.readBlobRange(m.blobId, offset, CHUNK);
    } catch (e) {
      // The +OK is out; the response cannot be completed. Drop the connection, so the
      // client sees a truncated response instead of a wrong message.
      log.error("pop3", `reading message failed mid-response: ${(e as Error).message}`);
      ctx.end();
      throw new ConnectionClosedError();
    }
  }
  ctx.send(stuffer.finish());
}

// RFC 1939 §5: RETR msg -> "+OK" and the message, dot-stuffed, ending with ".".
// Nothing is marked here: \Seen is set only in the UPDATE state (`quit.ts`).
export const retr: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length !== 1) throw syntaxError("RETR takes one argument");
  const n = parseMessageNumber(cmd.args[0]);
  const md = maildropOf(ctx);
  const m = md.get(n);
  await sendMessage(ctx, m, `${m.size} octets`);
  md.markRetrieved(n);
};

// RFC 1939 §7: TOP msg n -> the header, the blank line, and n lines of the body.
export const top: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length !== 2) throw syntaxError("TOP takes a message number and a line count");
  const n = parseMessageNumber(cmd.args[0]);
  const lines = parseLineCount(cmd.args[1]);
  const m = maildropOf(ctx).get(n);
  await sendMessage(ctx, m, "Top of message follows", new TopCutter(lines));
};
