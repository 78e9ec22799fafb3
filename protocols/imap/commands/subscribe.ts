/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8).
 *
 * @module
 */
import { Code } from "../codes.ts";
import { command } from "../context.ts";
import { no } from "../errors.ts";
import { accountOf, storedName } from "../mailbox_args.ts";
import { invalidNameReason } from "../mailbox_name.ts";

/** RFC 9051 §6.3.7: SUBSCRIBE mailbox (the mailbox need not exist). */
export const SUBSCRIBE = command({
  parse(r) {
    r.space();
    return r.astring("a mailbox name");
  },
  async run(ctx, wire) {
    const name = storedName(ctx, wire);
    const reason = invalidNameReason(name);
    if (reason) throw no(`Invalid mailbox name: ${reason}`, Code.CANNOT);
    await ctx.deps.store.setSubscribed(accountOf(ctx).id, name, true);
    return { text: "SUBSCRIBE completed" };
  },
});

/** RFC 9051 §6.3.8: UNSUBSCRIBE mailbox. */
export const UNSUBSCRIBE = command({
  parse(r) {
    r.space();
    return r.astring("a mailbox name");
  },
  async run(ctx, wire) {
    const name = storedName(ctx, wire);
    await ctx.deps.store.setSubscribed(accountOf(ctx).id, name, false);
    return { text: "UNSUBSCRIBE completed" };
  },
});
