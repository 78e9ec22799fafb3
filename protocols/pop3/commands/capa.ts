/**
 * CAPA (RFC 2449 §5).
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../../core/auth.ts";
import type { CommandHandler, SessionContext } from "../context.ts";
import { syntaxError } from "../errors.ts";
import { multiline } from "../replies.ts";

/** The capability lines for this session now. */
export function capabilities(ctx: SessionContext): string[] {
  const caps = ["TOP", "UIDL"];
  // RFC 2449 §6.8 USER / §6.3 SASL: only advertised where a login may actually succeed
  // (RFC 2595 §2.1: no plaintext passwords before TLS, except from loopback when allowed).
  if (ctx.loginAllowed) caps.push("USER");
  caps.push("RESP-CODES", "AUTH-RESP-CODE", "PIPELINING");
  // RFC 2595 §4: STLS only while the connection is not yet encrypted.
  if (!ctx.conn.isTls) caps.push("STLS");
  if (ctx.loginAllowed) caps.push(`SASL ${SASL_MECHANISMS.join(" ")}`);
  // RFC 2449 §6.7: we never delete messages on our own.
  caps.push("EXPIRE NEVER", "IMPLEMENTATION denomail");
  return caps;
}

// RFC 2449 §5: CAPA, valid in AUTHORIZATION and TRANSACTION; the same list in both (the
// AUTHORIZATION capabilities MUST be announced in both states).
export const capa: CommandHandler = (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("CAPA takes no arguments");
  ctx.send(multiline("Capability list follows", capabilities(ctx)));
};
