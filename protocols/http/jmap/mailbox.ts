/**
 * Mailbox methods (RFC 8621 §2): Mailbox/get and Mailbox/changes.
 *
 * Mailboxes are the IMAP ones: "/"-separated full names become a name and a parentId (the
 * nearest existing ancestor), SPECIAL-USE attributes become roles (RFC 8621 §2, the IANA
 * "IMAP Mailbox Name Attributes" registry), INBOX has role "inbox".
 *
 * @module
 */
import type { Mailbox, SpecialUse } from "../../../storage/mod.ts";
import { mailboxIdOf, parseMailboxId } from "./ids.ts";
import {
  checkArgs,
  idList,
  type JmapMethod,
  pick,
  propertyList,
  requireAccount,
} from "./context.ts";
import { loadMailboxes, type MailboxEntry } from "./account_view.ts";
import { COUNT_PROPERTIES, mailboxChanges, stateOf } from "./state.ts";
import { invalidArguments } from "./errors.ts";
import { MAIL } from "./session.ts";
import { changesMethod } from "./changes_method.ts";

export const ROLES: Record<SpecialUse, string> = {
  "\\Drafts": "drafts",
  "\\Sent": "sent",
  "\\Trash": "trash",
  "\\Junk": "junk",
  "\\Archive": "archive",
  "\\All": "all",
  "\\Flagged": "flagged",
};

/** Where well-known mailboxes sort (RFC 8621 §2.1 sortOrder: lower first). */
const ROLE_ORDER: Record<string, number> = {
  inbox: 1,
  drafts: 2,
  sent: 3,
  archive: 4,
  junk: 5,
  trash: 6,
};

const PROPERTIES = [
  "id",
  "name",
  "parentId",
  "role",
  "sortOrder",
  "totalEmails",
  "unreadEmails",
  "totalThreads",
  "unreadThreads",
  "myRights",
  "isSubscribed",
] as const;

function roleOf(m: Mailbox): string | null {
  if (m.name === "INBOX") return "inbox";
  return m.specialUse ? ROLES[m.specialUse] : null;
}

/** The JMAP Mailbox object of one entry (`byName`: the account's mailboxes by full name). */
export function toJmap(
  e: MailboxEntry,
  byName: ReadonlyMap<string, Mailbox>,
): Record<string, unknown> {
  const m = e.mailbox;
  let parent: Mailbox | null = null;
  let name = m.name === "INBOX" ? "Inbox" : m.name;
  for (let i = m.name.lastIndexOf("/"); i > 0; i = m.name.lastIndexOf("/", i - 1)) {
    const p = byName.get(m.name.slice(0, i));
    if (p) {
      parent = p;
      name = m.name.slice(i + 1);
      break;
    }
  }
  const role = roleOf(m);
  const isInbox = role === "inbox";
  // One thread per email for now: thread counts equal email counts.
  return {
    id: mailboxIdOf(m.id),
    name,
    parentId: parent ? mailboxIdOf(parent.id) : null,
    role,
    sortOrder: e.sortOrder ?? (role ? ROLE_ORDER[role] ?? 10 : 10),
    totalEmails: e.status.messages,
    unreadEmails: e.status.unseen,
    totalThreads: e.status.messages,
    unreadThreads: e.status.unseen,
    myRights: {
      mayReadItems: true,
      mayAddItems: true,
      mayRemoveItems: true,
      maySetSeen: true,
      maySetKeywords: true,
      mayCreateChild: true,
      mayRename: !isInbox,
      mayDelete: !isInbox,
      maySubmit: true,
    },
    isSubscribed: m.subscribed,
  };
}

/** RFC 8620 §5.1 /get for Mailbox. */
const get: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ids", "properties"]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? [...PROPERTIES];
    const unknown = properties.find((p) => !(PROPERTIES as readonly string[]).includes(p));
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const state = await stateOf(ctx.deps.store, ctx.account.id, "mailbox");
    const entries = await loadMailboxes(ctx.deps.store, ctx.account.id);
    const byName = new Map(entries.map((e) => [e.mailbox.name, e.mailbox]));
    const byId = new Map(entries.map((e) => [e.mailbox.id, e]));
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of ids ?? entries.map((e) => mailboxIdOf(e.mailbox.id))) {
      const n = parseMailboxId(id);
      const e = n === null ? undefined : byId.get(n);
      if (e) list.push(pick(toJmap(e, byName), properties));
      else notFound.push(id);
    }
    return { accountId, state, list, notFound };
  },
};

/**
 * RFC 8620 §5.2 /changes for Mailbox (RFC 8621 §2.2: updatedProperties names the counters
 * when nothing else changed), from the change log (state.ts).
 */
const changes = changesMethod({
  capability: MAIL,
  load: mailboxChanges,
  idOf: mailboxIdOf,
  extra: (c) => ({
    updatedProperties: c.countsOnly && c.updated.length > 0 ? COUNT_PROPERTIES : null,
  }),
});

export const MAILBOX_METHODS: Record<string, JmapMethod> = {
  "Mailbox/get": get,
  "Mailbox/changes": changes,
};
