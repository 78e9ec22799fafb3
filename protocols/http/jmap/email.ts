/**
 * Email methods (RFC 8621 §4): Email/get and Email/changes, read through the Store
 * (Email/query and Email/queryChanges: email_query.ts).
 * Keywords are the IMAP flags (keywords.ts).
 *
 * @module
 */
import { type MimePart, parseMime } from "../../../mime/mod.ts";
import {
  BODY_PROPERTIES,
  bodyLists,
  bodyStructure,
  bodyValue,
  DEFAULT_BODY_PROPERTIES,
  headerList,
  type PartBlobIds,
  partList,
} from "./email_body.ts";
import { loadEmails, loadEmailsByBlob, readListedEmail } from "./account_view.ts";
import { emailChanges, stateOf } from "./state.ts";
import {
  boolArg,
  chargeResponse,
  checkArgs,
  idList,
  intArg,
  type JmapMethod,
  pick,
  propertyList,
  requireAccount,
} from "./context.ts";
import { hasAttachment, headerAs, preview, utcDate } from "./email_parse.ts";
import { headerProperty, parseHeaderProperty } from "./email_headers.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { blobIdOf, emailIdOf, mailboxIdOf, parseEmailId, partBlobIdOf, threadIdOf } from "./ids.ts";
import type { JsonObject } from "./json.ts";
import { MAIL } from "./session.ts";
import { changesMethod } from "./changes_method.ts";
import { keywordsOf } from "./keywords.ts";

/** Properties known from the store's records alone. */
const META = ["id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"];
/** Properties that need the message parsed. */
export const PARSED = [
  "messageId",
  "inReplyTo",
  "references",
  "sender",
  "from",
  "to",
  "cc",
  "bcc",
  "replyTo",
  "subject",
  "sentAt",
  "hasAttachment",
  "preview",
];
/** Properties of the body (email_body.ts). */
export const BODY = ["bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"];
/** RFC 8621 §4.1.3 `headers`: every header field, Raw; asked for by name only. */
export const HEADERS = "headers";
export const PROPERTIES = [...META, ...PARSED, HEADERS, ...BODY];
/** RFC 8621 §4.2: what Email/get returns when no properties are given. */
const DEFAULT_PROPERTIES = PROPERTIES.filter((p) => p !== "bodyStructure" && p !== HEADERS);

/** RFC 8620 §5.1 /get for Email. */
const get: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "ids",
      "properties",
      "bodyProperties",
      "fetchTextBodyValues",
      "fetchHTMLBodyValues",
      "fetchAllBodyValues",
      "maxBodyValueBytes",
    ]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? DEFAULT_PROPERTIES;
    const headerProps = new Map(
      properties.filter((p) => p.startsWith("header:")).map((p) => [p, parseHeaderProperty(p)]),
    );
    const unknown = properties.find((p) =>
      headerProps.has(p) ? headerProps.get(p) === null : !PROPERTIES.includes(p)
    );
    if (unknown !== undefined) {
      throw invalidArguments(`unsupported property ${unknown.slice(0, 100)}`);
    }
    const bodyProperties = propertyList(args, "bodyProperties") ?? DEFAULT_BODY_PROPERTIES;
    const unknownPart = bodyProperties.find((p) => !BODY_PROPERTIES.includes(p));
    if (unknownPart !== undefined) {
      throw invalidArguments(`unsupported body property ${unknownPart.slice(0, 100)}`);
    }
    const values = {
      text: boolArg(args, "fetchTextBodyValues", false),
      html: boolArg(args, "fetchHTMLBodyValues", false),
      all: boolArg(args, "fetchAllBodyValues", false),
      maxBytes: intArg(args, "maxBodyValueBytes", 0, 0),
    };
    const store = ctx.deps.store;
    const emails = ids === null ? await loadEmails(store, ctx.account.id) : await loadEmailsByBlob(
      store,
      ctx.account.id,
      ids.map(parseEmailId).filter((b) => b !== null),
    );
    const wanted = ids ?? [...emails.keys()].map(emailIdOf);
    if (wanted.length > ctx.limits.maxObjectsInGet) throw new MethodError("requestTooLarge");
    const parse = headerProps.size > 0 ||
      properties.some((p) => PARSED.includes(p) || BODY.includes(p) || p === HEADERS);
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of wanted) {
      const blob = parseEmailId(id);
      const e = blob === null ? undefined : emails.get(blob);
      if (!e) {
        notFound.push(id);
        continue;
      }
      const obj: JsonObject = {
        id: emailIdOf(e.blobId),
        blobId: blobIdOf(e.blobId),
        threadId: threadIdOf(e.threadId),
        mailboxIds: Object.fromEntries(e.mailboxIds.map((m) => [mailboxIdOf(m), true])),
        keywords: keywordsOf(e.flags),
        size: e.size,
        receivedAt: utcDate(e.receivedAt),
      };
      if (parse) {
        const bytes = await readListedEmail(store, ctx.account.id, e.blobId);
        if (bytes === null) {
          notFound.push(id);
          continue;
        }
        const root = parseMime(bytes);
        Object.assign(obj, parsedProperties(bytes, root));
        if (properties.includes(HEADERS)) obj.headers = headerList(root);
        for (const [name, spec] of headerProps) obj[name] = headerProperty(root, spec!);
        if (properties.some((p) => BODY.includes(p))) {
          const blobIds = (path: readonly number[]) => partBlobIdOf(e.blobId, path);
          Object.assign(obj, bodyParts(bytes, blobIds, root, bodyProperties, values));
        }
      }
      const picked = pick(obj, properties);
      chargeResponse(ctx, picked, "ids");
      list.push(picked);
    }
    return { accountId, state: await stateOf(store, ctx.account.id, "email"), list, notFound };
  },
};

/** RFC 8621 §4.1.4 body properties and §4.2 bodyValues. */
export function bodyParts(
  bytes: Uint8Array,
  blobIds: PartBlobIds,
  root: MimePart,
  properties: readonly string[],
  values: { text: boolean; html: boolean; all: boolean; maxBytes: number },
): JsonObject {
  const lists = bodyLists(root);
  const bodyValues: JsonObject = Object.create(null);
  const add = (leaves: typeof lists.text) => {
    for (const l of leaves) {
      if (l.part.type !== "text") continue;
      bodyValues[l.path.join(".")] ??= bodyValue(bytes, l.part, values.maxBytes);
    }
  };
  if (values.text || values.all) add(lists.text);
  if (values.html || values.all) add(lists.html);
  if (values.all) add(lists.attachments);
  return {
    bodyStructure: bodyStructure(bytes, blobIds, root, properties),
    textBody: partList(bytes, blobIds, lists.text, properties),
    htmlBody: partList(bytes, blobIds, lists.html, properties),
    attachments: partList(bytes, blobIds, lists.attachments, properties),
    bodyValues,
  };
}

/** RFC 8621 §4.1.3 convenience properties: the last field of each name, in its form. */
export function parsedProperties(bytes: Uint8Array, root: MimePart): JsonObject {
  return {
    messageId: headerAs(root, "message-id", "MessageIds"),
    inReplyTo: headerAs(root, "in-reply-to", "MessageIds"),
    references: headerAs(root, "references", "MessageIds"),
    sender: headerAs(root, "sender", "Addresses"),
    from: headerAs(root, "from", "Addresses"),
    to: headerAs(root, "to", "Addresses"),
    cc: headerAs(root, "cc", "Addresses"),
    bcc: headerAs(root, "bcc", "Addresses"),
    replyTo: headerAs(root, "reply-to", "Addresses"),
    subject: headerAs(root, "subject", "Text"),
    sentAt: headerAs(root, "date", "Date"),
    hasAttachment: hasAttachment(root),
    preview: preview(bytes, root),
  };
}

/** RFC 8620 §5.2 /changes for Email, from the change log (state.ts). */
const changes = changesMethod({ capability: MAIL, load: emailChanges, idOf: emailIdOf });

export const EMAIL_METHODS: Record<string, JmapMethod> = {
  "Email/get": get,
  "Email/changes": changes,
};
