/**
 * The maildrop of the logged-in session, for TRANSACTION commands.
 *
 * @module
 */
import type { SessionContext } from "../context.ts";
import type { Maildrop } from "../maildrop.ts";

/** The open maildrop; the state table guarantees one exists in TRANSACTION. */
export function maildropOf(ctx: SessionContext): Maildrop {
  const md = ctx.maildrop;
  if (!md) throw new Error("no maildrop open in TRANSACTION state");
  return md;
}
