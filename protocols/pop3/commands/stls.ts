/**
 * STLS (RFC 2595 §4).
 *
 * @module
 */
import { startTlsHandshake } from "../../../core/session/mod.ts";
import type { CommandHandler } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import { ok } from "../replies.ts";

// RFC 2595 §4: STLS, AUTHORIZATION state only, and only once.
export const stls: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("STLS takes no arguments");
  if (ctx.conn.isTls) throw new Pop3Error("Already using TLS", { bad: true });
  ctx.send(ok("Begin TLS negotiation"));
  await ctx.flush();
  // RFC 2595 §3.1 / RFC 3207 §4.2: anything the client pipelined in plaintext after STLS
  // is discarded by the handshake and never executed.
  await startTlsHandshake(ctx.deps, ctx.conn, "pop3");
  // RFC 2595 §4: the session starts over; nothing learned in plaintext is kept.
  ctx.pendingUser = null;
};
