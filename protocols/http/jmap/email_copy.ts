/**
 * Email/copy (RFC 8621 §4.7), Email/parse (§4.9) and Blob/copy (RFC 8620 §6.3).
 *
 * A user has one account, so copies stay within it: Email/copy stores the message again
 * (a new blob, so a new Email id, as the RFC's "copy" means) in the given mailboxes, like
 * IMAP APPEND of the same bytes; Blob/copy finds each blob already in the account. A
 * `fromAccountId` other than the caller's is fromAccountNotFound, never a read.
 * onSuccessDestroyOriginal is refused (invalidArguments) until the implicit Email/set
 * response can be produced.
 *
 * @module
 */
import { findPart, parseMime } from "../../../mime/mod.ts";
import { readAccountBlob } from "./blob.ts";
import { readListedEmail } from "./account_view.ts";
import {
  boolArg,
  chargeResponse,
  checkArgs,
  idList,
  intArg,
  type JmapMethod,
  type MethodContext,
  objectArg,
  pick,
  propertyList,
  requireAccount,
  stringArg,
} from "./context.ts";
import { BODY, bodyParts, HEADERS, PARSED, parsedProperties } from "./email.ts";
import {
  BODY_PROPERTIES,
  DEFAULT_BODY_PROPERTIES,
  headerList,
  type PartBlobIds,
} from "./email_body.ts";
import { headerProperty, parseHeaderProperty } from "./email_headers.ts";
import { isSetError, loadSetView, oneObject, placeEmail, receivedAtOf } from "./email_import.ts";
import { keywordSet, mailboxSet } from "./email_update.ts";
import { keywordsOf } from "./keywords.ts";
import { invalidArguments, MethodError, SetFailure } from "./errors.ts";
import {
  accountIdOf,
  parseBlobId,
  parseEmailId,
  parsePartBlobId,
  parseUploadId,
  partBlobIdOf,
  uploadPartBlobIdOf,
} from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { CORE, MAIL } from "./session.ts";
import { stateOf } from "./state.ts";

/** The fromAccountId argument, which must also be the caller's own account. */
function requireFromAccount(ctx: MethodContext, args: JsonObject): string {
  const id = args.fromAccountId;
  if (typeof id !== "string") throw invalidArguments("fromAccountId must be a string");
  if (id !== accountIdOf(ctx.account.id)) throw new MethodError("fromAccountNotFound");
  return id;
}

const copyEmails: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "fromAccountId",
      "ifFromInState",
      "accountId",
      "ifInState",
      "create",
      "onSuccessDestroyOriginal",
      "destroyFromIfInState",
    ]);
    const fromAccountId = requireFromAccount(ctx, args);
    const accountId = requireAccount(ctx, args);
    if (boolArg(args, "onSuccessDestroyOriginal", false)) {
      throw invalidArguments("onSuccessDestroyOriginal is not supported");
    }
    const store = ctx.deps.store;
    const oldState = await stateOf(store, ctx.account.id, "email");
    for (const name of ["ifFromInState", "ifInState"]) {
      const want = stringArg(args, name);
      if (want !== null && want !== oldState) throw new MethodError("stateMismatch");
    }
    const create = objectArg(args, "create") ?? {};
    if (Object.keys(create).length > ctx.limits.maxObjectsInSet) {
      throw new MethodError("requestTooLarge");
    }
    const view = await loadSetView(ctx);
    const created: JsonObject = {};
    const notCreated: JsonObject = {};
    for (const [cid, spec] of Object.entries(create)) {
      const r = await oneObject(async () => {
        if (!isObject(spec)) throw new SetFailure("invalidProperties", "not an object");
        const unknown = Object.keys(spec).find((k) =>
          !["id", "mailboxIds", "keywords", "receivedAt"].includes(k)
        );
        if (unknown) throw new SetFailure("invalidProperties", unknown, [unknown]);
        const blob = parseEmailId(spec.id);
        const e = blob === null ? undefined : view.emails.get(blob);
        if (!e) throw new SetFailure("notFound");
        const bytes = await readListedEmail(store, ctx.account.id, e.blobId);
        if (!bytes) throw new SetFailure("notFound"); // destroyed since it was listed
        return await placeEmail(
          ctx,
          view,
          bytes,
          mailboxSet(ctx, view, spec.mailboxIds),
          spec.keywords === undefined
            ? new Set(Object.keys(keywordsOf(e.flags)))
            : keywordSet(spec.keywords),
          spec.receivedAt === undefined ? e.receivedAt : receivedAtOf(spec.receivedAt),
        );
      });
      if (isSetError(r)) notCreated[cid] = r;
      else {
        created[cid] = r;
        ctx.createdIds.set(cid, r.id as string);
      }
    }
    return {
      fromAccountId,
      accountId,
      oldState,
      newState: await stateOf(store, ctx.account.id, "email"),
      created: Object.keys(created).length ? created : null,
      notCreated: Object.keys(notCreated).length ? notCreated : null,
    };
  },
};

/**
 * The blob ids of the parts of a message given to Email/parse by `blobId`, so that a client
 * can download them (an attachment of an attached message): `p<blob>_<path>` in a stored
 * message, `p<blob>_<n>_<path>` in the message/rfc822 part n of one (RFC 9051 §6.4.5: its
 * numbers continue into the encapsulated message), `q<upload>_<path>` in an upload. Null
 * where the bytes parsed are not where the stored message has them (an attached message
 * with a transfer encoding, which RFC 2046 §5.2.1 does not allow).
 */
async function parsedPartBlobIds(ctx: MethodContext, blobId: string): Promise<PartBlobIds> {
  const stored = parseBlobId(blobId);
  if (stored !== null) return (path) => partBlobIdOf(stored, path);
  const upload = parseUploadId(blobId);
  if (upload !== null) return (path) => uploadPartBlobIdOf(upload, path);
  const part = parsePartBlobId(blobId);
  if (part !== null) {
    // Read a moment ago by readAccountBlob; destroyed since: no ids (the answer is already in).
    const bytes = await ctx.deps.store.readBlob(part.blob).catch(() => null);
    const p = bytes && findPart(parseMime(bytes), part.path);
    if (p?.kind === "message" && p.embedded && IDENTITY.has(p.encoding)) {
      return (path) => partBlobIdOf(part.blob, [...part.path, ...path]);
    }
  }
  return () => null;
}

/** Transfer encodings that leave the bytes as they are (RFC 2045 §6.1). */
const IDENTITY = new Set(["7bit", "8bit", "binary"]);

const parse: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "blobIds",
      "properties",
      "bodyProperties",
      "fetchTextBodyValues",
      "fetchHTMLBodyValues",
      "fetchAllBodyValues",
      "maxBodyValueBytes",
    ]);
    const accountId = requireAccount(ctx, args);
    const blobIds = idList(args, "blobIds", ctx.limits.maxObjectsInGet) ?? [];
    const known = ["blobId", "size", ...PARSED, HEADERS, ...BODY];
    const properties = propertyList(args, "properties") ??
      ["blobId", "size", ...PARSED, "textBody", "htmlBody", "attachments", "bodyValues"];
    const headerProps = new Map(
      properties.filter((p) => p.startsWith("header:")).map((p) => [p, parseHeaderProperty(p)]),
    );
    const bad = properties.find((p) =>
      headerProps.has(p) ? headerProps.get(p) === null : !known.includes(p) &&
        !["id", "threadId", "mailboxIds", "keywords", "receivedAt"].includes(p)
    );
    if (bad !== undefined) throw invalidArguments(`unsupported property ${bad.slice(0, 100)}`);
    const bodyProperties = propertyList(args, "bodyProperties") ?? DEFAULT_BODY_PROPERTIES;
    if (bodyProperties.some((p) => !BODY_PROPERTIES.includes(p))) {
      throw invalidArguments("unsupported body property");
    }
    const values = {
      text: boolArg(args, "fetchTextBodyValues", false),
      html: boolArg(args, "fetchHTMLBodyValues", false),
      all: boolArg(args, "fetchAllBodyValues", false),
      maxBytes: intArg(args, "maxBodyValueBytes", 0, 0),
    };
    const parsed: JsonObject = {};
    const notParsable: string[] = [];
    const notFound: string[] = [];
    for (const id of blobIds) {
      const blob = await readAccountBlob(ctx.deps.store, ctx.account.id, id);
      if (!blob) {
        notFound.push(id);
        continue;
      }
      const blobIds = await parsedPartBlobIds(ctx, id);
      let obj: JsonObject;
      try {
        const root = parseMime(blob.data);
        if (root.headers.length === 0) throw new Error("no header");
        obj = {
          id: null,
          blobId: id,
          threadId: null,
          mailboxIds: null,
          keywords: null,
          receivedAt: null,
          size: blob.data.byteLength,
          ...parsedProperties(blob.data, root),
          ...bodyParts(blob.data, blobIds, root, bodyProperties, values),
        };
        if (properties.includes(HEADERS)) obj.headers = headerList(root);
        for (const [name, spec] of headerProps) obj[name] = headerProperty(root, spec!);
      } catch {
        notParsable.push(id);
        continue;
      }
      const out = pick(obj, properties);
      chargeResponse(ctx, out, "blobIds");
      parsed[id] = out;
    }
    return {
      accountId,
      parsed: Object.keys(parsed).length ? parsed : null,
      notParsable: notParsable.length ? notParsable : null,
      notFound: notFound.length ? notFound : null,
    };
  },
};

const copyBlobs: JmapMethod = {
  capability: CORE,
  async run(ctx, args) {
    checkArgs(args, ["fromAccountId", "accountId", "blobIds"]);
    const fromAccountId = requireFromAccount(ctx, args);
    const accountId = requireAccount(ctx, args);
    const blobIds = idList(args, "blobIds", ctx.limits.maxObjectsInSet) ?? [];
    const copied: JsonObject = {};
    const notCopied: JsonObject = {};
    for (const id of blobIds) {
      // One account: the blob is already where it is asked to go.
      if (await readAccountBlob(ctx.deps.store, ctx.account.id, id)) copied[id] = id;
      else notCopied[id] = { type: "blobNotFound" };
    }
    return {
      fromAccountId,
      accountId,
      copied: Object.keys(copied).length ? copied : null,
      notCopied: Object.keys(notCopied).length ? notCopied : null,
    };
  },
};

export const EMAIL_COPY_METHODS: Record<string, JmapMethod> = {
  "Email/copy": copyEmails,
  "Email/parse": parse,
  "Blob/copy": copyBlobs,
};
