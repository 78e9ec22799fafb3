/**
 * LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE
 * RFC 6154, CHILDREN RFC 3348) and LSUB (RFC 3501 §6.3.9).
 *
 * @module
 */
import type { Mailbox, SpecialUse } from "../../../storage/mod.ts";
import { command, type SessionContext } from "../context.ts";
import { ParseError } from "../errors.ts";
import { accountOf } from "../mailbox_args.ts";
import {
  DELIMITER,
  fromWire,
  MailboxPattern,
  normalizeInbox,
  parentNames,
  toWire,
} from "../mailbox_name.ts";
import type { ArgReader } from "../parser.ts";
import { str, untagged } from "../response.ts";
import { Pacer } from "../../../lib/yield.ts";
import { parseStatusItems, statusResponse } from "./status.ts";

/** RFC 6154 §2: the special-use attribute of a mailbox, if any. */
export function specialUseAttrs(use: SpecialUse | null): string[] {
  return use ? [use] : [];
}

interface ListArgs {
  select: Set<string>;
  reference: string;
  patterns: string[];
  returns: Set<string>;
  statusItems: string[] | null;
  /** True for the RFC 3501 form without any LIST-EXTENDED option. */
  basic: boolean;
}

const SELECT_OPTIONS = new Set(["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]);
const RETURN_OPTIONS = new Set(["SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS"]);

function parseList(r: ArgReader): ListArgs {
  r.space();
  const select = new Set<string>();
  let basic = true;
  // RFC 5258 §3: list-select-opts.
  if (r.peek() === "(") {
    basic = false;
    for (const o of r.list(() => r.atom("a selection option").toUpperCase())) {
      if (!SELECT_OPTIONS.has(o)) throw new ParseError(`Unknown LIST selection option ${o}`);
      select.add(o);
    }
    // RFC 5258 §3: RECURSIVEMATCH alone is an error.
    if (select.has("RECURSIVEMATCH") && !select.has("SUBSCRIBED")) {
      throw new ParseError("RECURSIVEMATCH needs another selection option");
    }
    r.space();
  }
  const reference = r.astring("a reference name");
  r.space();
  const patterns = r.peek() === "("
    ? (basic = false, r.list(() => r.listMailbox(), false))
    : [r.listMailbox()];
  const returns = new Set<string>();
  let statusItems: string[] | null = null;
  if (r.tryChar(" ")) {
    basic = false;
    const kw = r.atom("RETURN").toUpperCase();
    if (kw !== "RETURN") throw new ParseError("Expected RETURN");
    r.space();
    r.list(() => {
      const o = r.atom("a return option").toUpperCase();
      if (!RETURN_OPTIONS.has(o)) throw new ParseError(`Unknown LIST return option ${o}`);
      returns.add(o);
      if (o === "STATUS") {
        r.space();
        statusItems = parseStatusItems(r);
      }
      return o;
    });
  }
  return { select, reference, patterns, returns, statusItems, basic };
}

/** INBOX first, then by name. */
function listOrder(name: string): number {
  return name === "INBOX" ? 0 : 1;
}

interface Entry {
  name: string;
  mailbox: Mailbox | null;
  attrs: string[];
  childInfo: boolean;
}

/** RFC 9051 §6.3.9: "" as pattern asks for the delimiter and the reference's root. */
function rootOf(reference: string): string {
  const i = reference.indexOf(DELIMITER);
  return i < 0 ? "" : reference.slice(0, i + 1);
}

async function list(ctx: SessionContext, a: ListArgs, lsub: boolean): Promise<void> {
  const account = accountOf(ctx);
  const store = ctx.deps.store;
  const verb = lsub ? "LSUB" : "LIST";
  const reference = fromWire(a.reference, ctx.utf8);
  if (a.patterns.length === 1 && a.patterns[0] === "" && !lsub) {
    const root = rootOf(reference);
    ctx.send(untagged(`LIST (\\Noselect) "${DELIMITER}" ${str(toWire(root, ctx.utf8), ctx.utf8)}`));
    return;
  }
  const mailboxes = await store.listMailboxes(account.id);
  const byName = new Map(mailboxes.map((m) => [m.name, m]));
  const selectSubscribed = lsub || a.select.has("SUBSCRIBED");
  const wantSubscribed = selectSubscribed || a.returns.has("SUBSCRIBED");
  const subs = wantSubscribed
    ? new Set((await store.listSubscriptions(account.id)).map(normalizeInbox))
    : new Set<string>();
  // Names with existing inferiors (CHILDREN, RFC 3348) and implied levels.
  const hasChildren = new Set<string>();
  for (const m of mailboxes) for (const p of parentNames(m.name)) hasChildren.add(p);
  // A pattern that is not valid modified UTF-7 names no mailbox: no match, not an error
  // (RFC 9051 §6.3.9 asks for none; Dovecot answers OK).
  const patterns = a.patterns.flatMap((p) => {
    try {
      return [new MailboxPattern(reference, fromWire(p, ctx.utf8))];
    } catch {
      return [];
    }
  });

  const candidates = new Set<string>(selectSubscribed ? subs : byName.keys());
  const percent = patterns.some((p) => p.endsWithPercent);
  // RFC 3501 §6.3.8: a trailing "%" also lists levels that exist only as parents.
  if (percent && !selectSubscribed) { for (const p of hasChildren) candidates.add(p); }
  // RFC 5258 §3.5: RECURSIVEMATCH lists parents of subscribed names with CHILDINFO, for
  // descendants that do not match a pattern themselves (those are listed on their own).
  const subscribedParents = new Set<string>();
  // Many patterns times many names is real work: yield so other sessions run meanwhile.
  const pace = new Pacer();
  if (a.select.has("RECURSIVEMATCH")) {
    for (const s of subs) {
      await pace.tick();
      if (patterns.some((p) => p.matches(s))) continue;
      for (const p of parentNames(s)) subscribedParents.add(p);
    }
    for (const p of subscribedParents) candidates.add(p);
  }
  if (lsub && percent) {
    for (const s of subs) for (const p of parentNames(s)) candidates.add(p);
  }

  const entries: Entry[] = [];
  for (const name of candidates) {
    await pace.tick();
    if (!patterns.some((p) => p.matches(name))) continue;
    const mb = byName.get(name) ?? null;
    if (a.select.has("SPECIAL-USE") && !mb?.specialUse) continue;
    const subscribed = subs.has(name);
    const childInfo = !subscribed && subscribedParents.has(name);
    if (selectSubscribed && !subscribed && !childInfo && !lsub) continue;
    const attrs: string[] = [];
    if (lsub) {
      if (!subscribed) attrs.push("\\Noselect");
    } else if (!mb) {
      // RFC 5258 §3: \NonExistent (implies \Noselect) for names that are not mailboxes.
      attrs.push(hasChildren.has(name) && !selectSubscribed ? "\\Noselect" : "\\NonExistent");
    }
    if (!lsub) {
      attrs.push(hasChildren.has(name) ? "\\HasChildren" : "\\HasNoChildren");
      if (wantSubscribed && subscribed) attrs.push("\\Subscribed");
      if (mb) attrs.push(...specialUseAttrs(mb.specialUse));
    }
    entries.push({ name, mailbox: mb, attrs, childInfo });
  }
  entries.sort((x, y) => listOrder(x.name) - listOrder(y.name) || (x.name < y.name ? -1 : 1));
  for (const e of entries) {
    const name = str(toWire(e.name, ctx.utf8), ctx.utf8);
    const ext = e.childInfo ? ` ("CHILDINFO" ("SUBSCRIBED"))` : "";
    ctx.send(untagged(`${verb} (${e.attrs.join(" ")}) "${DELIMITER}" ${name}${ext}`));
    // RFC 5819 §2: the STATUS response follows its LIST response.
    if (a.statusItems && e.mailbox) ctx.send(await statusResponse(ctx, e.mailbox, a.statusItems));
  }
}

/** RFC 9051 §6.3.9 / RFC 5258: LIST [select-opts] reference patterns [RETURN (opts)]. */
export const LIST = command({
  parse: parseList,
  run: (ctx, a) => list(ctx, a, false),
});

/** RFC 3501 §6.3.9: LSUB reference pattern. */
export const LSUB = command({
  parse(r) {
    r.space();
    const reference = r.astring("a reference name");
    r.space();
    const pattern = r.listMailbox();
    return {
      select: new Set<string>(),
      reference,
      patterns: [pattern],
      returns: new Set<string>(),
      statusItems: null,
      basic: true,
    } as ListArgs;
  },
  run: (ctx, a) => list(ctx, a, true),
});
