/**
 * Looking up the mailbox a command names: wire name -> stored name -> Mailbox, with the
 * NO replies RFC 9051 prescribes when it is missing.
 *
 * @module
 */
import type { Account, Mailbox } from "../../storage/mod.ts";
import { Code } from "./codes.ts";
import type { SessionContext } from "./context.ts";
import { no } from "./errors.ts";
import { fromWire } from "./mailbox_name.ts";

/** The logged-in account (the state table guarantees one in authenticated states). */
export function accountOf(ctx: SessionContext): Account {
  if (!ctx.account) throw new Error("no account in an authenticated state");
  return ctx.account;
}

/** The stored name for a mailbox argument. */
export function storedName(ctx: SessionContext, wire: string): string {
  return fromWire(wire, ctx.utf8);
}

/** The named mailbox, or NO [NONEXISTENT] (RFC 9051 §7.1). */
export async function existingMailbox(ctx: SessionContext, wire: string): Promise<Mailbox> {
  const mb = await ctx.deps.store.getMailbox(accountOf(ctx).id, storedName(ctx, wire));
  if (!mb) throw no("No such mailbox", Code.NONEXISTENT);
  return mb;
}

/**
 * The target of APPEND / COPY / MOVE, or NO [TRYCREATE] (RFC 9051 §6.3.12, §6.4.7): the
 * client may create it and retry.
 */
export async function targetMailbox(ctx: SessionContext, wire: string): Promise<Mailbox> {
  const mb = await ctx.deps.store.getMailbox(accountOf(ctx).id, storedName(ctx, wire));
  if (!mb) throw no("Mailbox does not exist", Code.TRYCREATE);
  return mb;
}
