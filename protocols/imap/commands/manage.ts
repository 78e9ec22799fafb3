/**
 * CREATE, DELETE and RENAME (RFC 9051 §6.3.4 - §6.3.6), with CREATE-SPECIAL-USE
 * (RFC 6154 §3).
 *
 * @module
 */
import type { SpecialUse } from "../../../storage/mod.ts";
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

/**
 * RFC 6154 §3: the special uses a created mailbox may have. \All and \Flagged name virtual
 * mailboxes, which we do not have; a mailbox has at most one use.
 */
const CREATABLE_USES = new Set(["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash"]);

/** RFC 4466 §2.2 create-params: SP "(" create-param *(SP create-param) ")". */
function parseCreateParams(r: ArgReader): string[] {
  const uses: string[] = [];
  r.list(() => {
    const name = r.atom("a CREATE parameter").toUpperCase();
    // RFC 6154 §6: create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")".
    if (name !== "USE") throw new ParseError(`Unknown CREATE parameter ${name}`);
    r.space();
    uses.push(...r.list(() => r.flag()));
  }, false);
  return uses;
}

/** The one special use asked for, canonically spelled, or NO [USEATTR] (RFC 6154 §3). */
function specialUseOf(uses: readonly string[]): SpecialUse | null {
  if (uses.length === 0) return null;
  if (uses.length > 1) throw no("A mailbox has at most one special use", Code.USEATTR);
  const want = uses[0].toLowerCase();
  for (const u of CREATABLE_USES) if (u.toLowerCase() === want) return u as SpecialUse;
  throw no(`Special use ${uses[0]} is not supported`, Code.USEATTR);
}

/** RFC 9051 §6.3.4: CREATE mailbox [create-params] (RFC 6154 §3: USE (attr)). */
export const CREATE = command({
  parse(r) {
    const name = oneMailbox(r);
    const uses = r.tryChar(" ") ? parseCreateParams(r) : [];
    return { name, uses };
  },
  async run(ctx, { name: wire, uses }) {
    const use = specialUseOf(uses);
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
    await store.createMailbox(account.id, name, use);
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
    // RFC 9051 §6.3.6: INBOX itself stays (only its messages move, its inferiors stay), so
    // "RENAME INBOX INBOX/old" is fine; any other mailbox cannot move below itself.
    if (mb.name !== "INBOX" && target.startsWith(mb.name + DELIMITER)) {
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
