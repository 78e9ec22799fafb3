/**
 * USER and PASS (RFC 1939 §7).
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { Pop3Error, syntaxError } from "../errors.ts";
import { ok } from "../replies.ts";
import {
  authFailed,
  loginFailed,
  refuseIfThrottled,
  requireLoginAllowed,
  throttledError,
} from "./login_policy.ts";

// RFC 1939 §7: USER name. The name is the full address. We always answer +OK, so the
// reply does not tell whether the account exists.
export const user: CommandHandler = (ctx, cmd) => {
  requireLoginAllowed(ctx);
  refuseIfThrottled(ctx);
  if (cmd.args.length !== 1) throw syntaxError("USER takes one argument: your address");
  ctx.pendingUser = cmd.args[0];
  ctx.send(ok("Send PASS"));
};

// RFC 1939 §7: PASS string. "Since the PASS command has exactly one argument, a POP3
// server may treat spaces in the argument as part of the password."
export const pass: CommandHandler = async (ctx, cmd) => {
  requireLoginAllowed(ctx);
  const name = ctx.pendingUser;
  // RFC 1939 §7: PASS may only be given immediately after a successful USER.
  if (name === null) throw new Pop3Error("Send USER first", { bad: true });
  ctx.pendingUser = null;
  try {
    refuseIfThrottled(ctx);
  } catch (e) {
    throw e instanceof Pop3Error ? loginFailed(ctx, e, name, "USER/PASS") : e;
  }
  if (cmd.rest === "") throw syntaxError("PASS takes one argument");
  const r = await ctx.deps.auth.verify(name, cmd.rest, ctx.conn.remoteAddress);
  if (!r.ok) {
    throw loginFailed(
      ctx,
      r.reason === "throttled" ? throttledError() : authFailed(),
      name,
      "USER/PASS",
    );
  }
  await ctx.login(r.account);
};
