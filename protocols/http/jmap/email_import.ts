/**
 * Storing a new Email (Email/set create, Email/import; RFC 8621 §4.6, §4.8), as IMAP
 * APPEND does: the deliver hook runs first (hooks.ts), the message is appended to the first
 * mailbox and copied to the others, so every mailbox's UIDNEXT/MODSEQ and the change log
 * move and IDLE-ing IMAP clients hear of it. Email/import itself is here too.
 *
 * @module
 */
import { type Mailbox, StoreError } from "../../../storage/mod.ts";
import { loadEmails } from "./account_view.ts";
import { readAccountBlob } from "./blob.ts";
import {
  checkArgs,
  type JmapMethod,
  type MethodContext,
  objectArg,
  requireAccount,
  stringArg,
} from "./context.ts";
import { type SetError, SetFailure } from "./errors.ts";
import { keywordSet, mailboxKeywordRecords, mailboxSet, type SetView } from "./email_update.ts";
import { noteKeywords } from "../../../core/mailbox_keywords.ts";
import { deliverHook } from "./hooks.ts";
import { blobIdOf, emailIdOf, threadIdOf } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { flagsOf } from "./keywords.ts";
import { MAIL } from "./session.ts";
import { stateOf } from "./state.ts";
import { MethodError } from "./errors.ts";

/** Loads what a /set or /import needs to check ids against. */
export async function loadSetView(ctx: MethodContext): Promise<SetView> {
  const store = ctx.deps.store;
  const boxes = await store.listMailboxes(ctx.account.id);
  return {
    mailboxes: new Map(boxes.map((m) => [m.id, m])),
    emails: await loadEmails(store, ctx.account.id),
  };
}

/** The receivedAt of a create object (RFC 3339 UTCDate), or now. */
export function receivedAtOf(v: unknown): number {
  if (v === undefined || v === null) return Date.now();
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  if (isNaN(t)) throw new SetFailure("invalidProperties", "receivedAt", ["receivedAt"]);
  return t;
}

/** overQuota when `bytes` more would take the account past its quota (as APPEND checks). */
async function checkQuota(ctx: MethodContext, bytes: number): Promise<void> {
  const store = ctx.deps.store;
  const limit = (await store.getAccountById(ctx.account.id))?.quotaBytes ?? null;
  if (limit === null) return;
  if (await store.accountUsage(ctx.account.id) + bytes > limit) {
    throw new SetFailure("overQuota");
  }
}

/** Stores `message` in `boxes` with `keywords`; returns the created Email's server-set properties. */
export async function placeEmail(
  ctx: MethodContext,
  view: SetView,
  message: Uint8Array,
  boxes: Map<number, Mailbox>,
  keywords: Set<string>,
  receivedAt: number,
): Promise<JsonObject> {
  if (boxes.size === 0) {
    throw new SetFailure("invalidProperties", "an Email needs a mailbox", ["mailboxIds"]);
  }
  if (message.byteLength > ctx.limits.maxSizeUpload) throw new SetFailure("tooLarge");
  await checkQuota(ctx, message.byteLength * boxes.size);
  const [first, ...rest] = boxes.values();
  const flags = flagsOf(keywords);
  const records = await mailboxKeywordRecords(ctx, boxes.values(), flags);
  const decision = await deliverHook(ctx, first, message, flags);
  if (decision.kind === "refused") throw new SetFailure("forbidden", decision.text);
  if (decision.kind === "discard") throw new SetFailure("forbidden", "refused by policy");
  const store = ctx.deps.store;
  try {
    const placed = await store.append(first.id, decision.message, {
      flags,
      internalDate: receivedAt,
    });
    for (const mb of rest) await store.copyMessages(first.id, [placed.uid], mb.id);
    for (const known of records) noteKeywords(known, flags);
    const [meta] = await store.getMessages(first.id, [placed.uid]);
    // The store threads a message when it is placed (RFC 8621 §3): ask which thread it joined.
    const [copy] = await store.emailCopies(ctx.account.id, [meta.blobId]);
    const threadId = copy?.threadId ?? meta.blobId;
    view.emails.set(meta.blobId, {
      blobId: meta.blobId,
      mailboxIds: [...boxes.keys()],
      copies: [[first.id, placed.uid]],
      flags: new Set(meta.flags),
      receivedAt: meta.internalDate,
      size: meta.size,
      threadId,
    });
    return {
      id: emailIdOf(meta.blobId),
      blobId: blobIdOf(meta.blobId),
      threadId: threadIdOf(threadId),
      size: meta.size,
    };
  } catch (e) {
    if (e instanceof StoreError && e.code === "quota") throw new SetFailure("overQuota");
    throw e;
  }
}

/** Runs `write` for one object, turning a SetFailure into its SetError. */
export async function oneObject<T>(write: () => Promise<T>): Promise<T | SetError> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof SetFailure) return e.toSetError();
    throw e;
  }
}

export const isSetError = (v: unknown): v is SetError =>
  isObject(v) && typeof v.type === "string" && !("id" in v);

/** Bytes of a message's start looked at for its header section. */
const HEADER_PEEK = 64 * 1024;

/**
 * True when the blob's header section (up to the first empty line) has a header field
 * (RFC 5322 §2.2: printable name, colon). Anything else is not a message at all; a
 * leading mbox "From " line is tolerated because a field follows it.
 */
export function looksLikeMessage(data: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(data.subarray(0, HEADER_PEEK));
  const end = head.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? head : head.slice(0, end)).split(/\r?\n/);
  return lines.some((l) => /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(l));
}

/** RFC 8621 §4.8 Email/import: messages from blobs (uploads or this account's blobs). */
const importEmails: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ifInState", "emails"]);
    const accountId = requireAccount(ctx, args);
    const store = ctx.deps.store;
    const oldState = await stateOf(store, ctx.account.id, "email");
    const ifInState = stringArg(args, "ifInState");
    if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
    const emails = objectArg(args, "emails") ?? {};
    if (Object.keys(emails).length > ctx.limits.maxObjectsInSet) {
      throw new MethodError("requestTooLarge");
    }
    const view = await loadSetView(ctx);
    const created: JsonObject = {};
    const notCreated: JsonObject = {};
    for (const [cid, spec] of Object.entries(emails)) {
      const out = await oneObject(async () => {
        if (!isObject(spec)) throw new SetFailure("invalidProperties", "not an object");
        const unknown = Object.keys(spec).find((k) =>
          !["blobId", "mailboxIds", "keywords", "receivedAt"].includes(k)
        );
        if (unknown) throw new SetFailure("invalidProperties", unknown, [unknown]);
        if (typeof spec.blobId !== "string") {
          throw new SetFailure("invalidProperties", "blobId", ["blobId"]);
        }
        const blobRef = spec.blobId.startsWith("#")
          ? ctx.createdIds.get(spec.blobId.slice(1)) ?? spec.blobId
          : spec.blobId;
        const blob = await readAccountBlob(store, ctx.account.id, blobRef);
        // RFC 8621 §4.8: a blobId that is not found is invalidProperties (Email/set's
        // blobNotFound is §4.6's, for blobs a new Email's parts name).
        if (!blob) throw new SetFailure("invalidProperties", "blob not found", ["blobId"]);
        // RFC 8621 §4.8: a blob that is not an RFC 5322 message is invalidEmail.
        if (!looksLikeMessage(blob.data)) {
          throw new SetFailure("invalidEmail", "the blob has no header fields");
        }
        return await placeEmail(
          ctx,
          view,
          blob.data,
          mailboxSet(ctx, view, spec.mailboxIds),
          keywordSet(spec.keywords ?? {}),
          receivedAtOf(spec.receivedAt),
        );
      });
      if (isSetError(out)) notCreated[cid] = out;
      else {
        created[cid] = out;
        ctx.createdIds.set(cid, out.id as string);
      }
    }
    return {
      accountId,
      oldState,
      newState: await stateOf(store, ctx.account.id, "email"),
      created: Object.keys(created).length ? created : null,
      notCreated: Object.keys(notCreated).length ? notCreated : null,
    };
  },
};

export const EMAIL_IMPORT_METHODS: Record<string, JmapMethod> = {
  "Email/import": importEmails,
};
