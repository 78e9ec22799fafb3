/**
 * CREATE, DELETE and RENAME (RFC 9051 §6.3.4 - §6.3.6).
 *
 * @module
 */
import { Code } from "../codes.ts";
import { command } from "../context.ts";
import { no, ParseError } from "../errors.ts";
import { accountOf, existingMailbox, storedName } from "../mailbox_args.ts";
import { DELIMITER, parentNames, validateNewName } from "../mailbox_name.ts";
import type { ArgReader } from "../parser.ts";

/** One mailbox argument. */
function oneMailbox(r: ArgReader): string {
  r.space();
  return r.astring("a mailbox name");
}

/** RFC 9051 §6.3.4: CREATE mailbox. */
export const CREATE = command({
  parse(r) {
    const name = oneMailbox(r);
    // RFC 4466 §2.2 create-params (e.g. RFC 6154 USE) are not supported yet.
    if (r.tryChar(" ")) throw new ParseError("CREATE parameters are not supported");
    return name;
  },
  async run(ctx, wire) {
    let name = storedName(ctx, wire);
    // RFC 9051 §6.3.4: a trailing delimiter only declares intent to create inferiors.
    if (name.endsWith(DELIMITER) && name.length > 1) name = name.slice(0, -1);
    validateNewName(name);
    const store = ctx.deps.store;
    const account = accountOf(ctx);
    if (name === "INBOX" || await store.getMailbox(account.id, name)) {
      throw no("Mailbox already exists", Code.ALREADYEXISTS);
    }
    // RFC 9051 §6.3.4: create the superior levels the name needs.
    for (const parent of parentNames(name)) {
      if (!await store.getMailbox(account.id, parent)) {
        await store.createMailbox(account.id, parent);
      }
    }
    await store.createMailbox(account.id, name);
    return { text: "CREATE completed" };
  },
});

/** RFC 9051 §6.3.5: DELETE mailbox (inferiors stay; INBOX cannot be deleted). */
export const DELETE = command({
  parse: oneMailbox,
  async run(ctx, wire) {
    const mb = await existingMailbox(ctx, wire);
    if (mb.name === "INBOX") throw no("INBOX cannot be deleted", Code.CANNOT);
    // RFC 9051 §6.3.5: deleting the selected mailbox is allowed; this session leaves it.
    if (ctx.selected?.mailbox.id === mb.id) ctx.deselect();
    await ctx.deps.store.deleteMailbox(mb.id);
    return { text: "DELETE completed" };
  },
});

/** RFC 9051 §6.3.6: RENAME existing new (inferiors follow; INBOX moves its messages). */
export const RENAME = command({
  parse(r) {
    const from = oneMailbox(r);
    r.space();
    const to = r.astring("a mailbox name");
    return { from, to };
  },
  async run(ctx, { from, to }) {
    const mb = await existingMailbox(ctx, from);
    const target = storedName(ctx, to);
    validateNewName(target);
    const store = ctx.deps.store;
    const account = accountOf(ctx);
    if (target === "INBOX" || await store.getMailbox(account.id, target)) {
      throw no("Target mailbox already exists", Code.ALREADYEXISTS);
    }
    if (target.startsWith(mb.name + DELIMITER)) {
      throw no("Cannot move a mailbox into itself", Code.CANNOT);
    }
    for (const parent of parentNames(target)) {
      if (parent !== mb.name && !await store.getMailbox(account.id, parent)) {
        await store.createMailbox(account.id, parent);
      }
    }
    await store.renameMailbox(mb.id, target);
    return { text: "RENAME completed" };
  },
});
