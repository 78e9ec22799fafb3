/**
 * EmailSubmission (RFC 8621 §7): get, changes, query, queryChanges, set.
 *
 * Creating a submission sends the Email through core/submission.ts — the identity check,
 * plugin hooks, local delivery and queue of port 587. The envelope, when not given, is
 * derived from the message as §7 says (Sender, else From; To+Cc+Bcc). The Bcc field is
 * removed from what is sent (§7: it must not reach the recipients). Sending happens at
 * once (maxDelayedSend 0), so undoStatus is "final" and a cancel is `cannotUnsend`.
 * Submissions are kept in the stored records (records.ts, type "submission", the newest
 * MAX_OBJECTS).
 *
 * @module
 */
import { parseMime } from "../../../mime/mod.ts";
import { newMessageId } from "../../../core/trace.ts";
import { submitMessage } from "../../../core/submission.ts";
import { log } from "../../../lib/log.ts";
import { loadEmails, readListedEmail } from "./account_view.ts";
import { stateOf } from "./state.ts";
import {
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
import { destroyEmail, type SetView, updateEmail } from "./email_update.ts";
import { isSetError, oneObject } from "./email_import.ts";
import { SetFailure } from "./errors.ts";
import { headerAs, utcDate } from "./email_parse.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { loadIdentities } from "./identity.ts";
import { emailIdOf, parseEmailId, threadIdOf } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import {
  changesSince,
  MAX_OBJECTS,
  noteChange,
  readDoc,
  type RecordDoc,
  writeDoc,
} from "./records.ts";
import { SUBMISSION } from "./session.ts";
import { queryChangesArgs } from "./query_changes.ts";

const TYPE = "submission";
const PROPERTIES = [
  "id",
  "identityId",
  "emailId",
  "threadId",
  "envelope",
  "sendAt",
  "undoStatus",
  "deliveryStatus",
  "dsnBlobIds",
  "mdnBlobIds",
];

const get: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "ids", "properties"]);
    const accountId = requireAccount(ctx, args);
    const ids = idList(args, "ids", ctx.limits.maxObjectsInGet);
    const properties = propertyList(args, "properties") ?? PROPERTIES;
    const unknown = properties.find((p) => !PROPERTIES.includes(p));
    if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown.slice(0, 100)}`);
    const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of ids ?? Object.keys(doc.objects)) {
      const o = Object.hasOwn(doc.objects, id) ? doc.objects[id] : undefined;
      if (o) list.push(pick({ ...o, id }, properties));
      else notFound.push(id);
    }
    return { accountId, state: String(doc.state), list, notFound };
  },
};

const changes: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "sinceState", "maxChanges"]);
    const accountId = requireAccount(ctx, args);
    const since = stringArg(args, "sinceState");
    if (since === null) throw invalidArguments("sinceState is required");
    const max = intArg(args, "maxChanges", 0, 1);
    const c = changesSince(await readDoc(ctx.deps.store, TYPE, ctx.account.id), since, max);
    if (!c) throw new MethodError("cannotCalculateChanges");
    return { accountId, oldState: since, ...c };
  },
};

/** RFC 8621 §7.3 FilterCondition (no operators). */
function matches(o: Record<string, unknown>, f: JsonObject): boolean {
  const inList = (name: string, v: unknown) =>
    !Array.isArray(f[name]) || (f[name] as unknown[]).includes(v);
  return inList("identityIds", o.identityId) && inList("emailIds", o.emailId) &&
    inList("threadIds", o.threadId) &&
    (typeof f.undoStatus !== "string" || f.undoStatus === o.undoStatus) &&
    (typeof f.before !== "string" || (o.sendAt as string) < f.before) &&
    (typeof f.after !== "string" || (o.sendAt as string) >= f.after);
}

const FILTERS = ["identityIds", "emailIds", "threadIds", "undoStatus", "before", "after"];
const SORTS = ["emailId", "threadId", "sentAt"];

/** The ids matching a query's filter and sort, in order. */
function queryIds(doc: RecordDoc, args: JsonObject): string[] {
  const filter = objectArg(args, "filter") ?? {};
  if (Object.keys(filter).some((k) => !FILTERS.includes(k))) {
    throw new MethodError("unsupportedFilter");
  }
  const sort = Array.isArray(args.sort) ? args.sort : [];
  const ids = Object.keys(doc.objects).filter((id) => matches(doc.objects[id], filter));
  for (const c of [...sort].reverse()) {
    if (!isObject(c) || typeof c.property !== "string" || !SORTS.includes(c.property)) {
      throw new MethodError("unsupportedSort");
    }
    const prop = c.property === "sentAt" ? "sendAt" : c.property;
    const dir = c.isAscending === false ? -1 : 1;
    ids.sort((a, b) => {
      const x = String(doc.objects[a][prop]);
      const y = String(doc.objects[b][prop]);
      return x < y ? -dir : x > y ? dir : 0;
    });
  }
  return ids;
}

const query: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "filter",
      "sort",
      "position",
      "anchor",
      "anchorOffset",
      "limit",
      "calculateTotal",
    ]);
    const accountId = requireAccount(ctx, args);
    const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
    const ids = queryIds(doc, args);
    let position = intArg(args, "position", 0, Number.MIN_SAFE_INTEGER);
    const anchor = stringArg(args, "anchor");
    if (anchor !== null) {
      const i = ids.indexOf(anchor);
      if (i < 0) throw new MethodError("anchorNotFound");
      position = Math.max(0, i + intArg(args, "anchorOffset", 0, Number.MIN_SAFE_INTEGER));
    } else if (position < 0) position = Math.max(0, ids.length + position);
    const limit = intArg(args, "limit", ctx.limits.maxObjectsInGet, 0);
    const out: JsonObject = {
      accountId,
      queryState: String(doc.state),
      canCalculateChanges: false,
      position,
      ids: ids.slice(position, position + limit),
    };
    if (args.calculateTotal === true) out.total = ids.length;
    return out;
  },
};

const queryChanges: JmapMethod = {
  capability: SUBMISSION,
  async run(ctx, args) {
    const { accountId, since, calculateTotal } = queryChangesArgs(ctx, args);
    const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
    if (since !== String(doc.state)) throw new MethodError("cannotCalculateChanges");
    const out: JsonObject = {
      accountId,
      oldQueryState: since,
      newQueryState: since,
      removed: [],
      added: [],
    };
    if (calculateTotal) out.total = queryIds(doc, args).length;
    return out;
  },
};

/** "Name <a@b>" etc. as plain addresses, from an Addresses-form header value. */
function addresses(v: unknown): string[] {
  return Array.isArray(v)
    ? v.map((a) => (a as { email?: unknown }).email).filter((e): e is string =>
      typeof e === "string" && e.includes("@")
    )
    : [];
}

/** The message without its Bcc fields (RFC 8621 §7: Bcc is not sent to recipients). */
function withoutBcc(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const lines = head.split(/(?<=\n)/);
  let skipping = false;
  const kept = lines.filter((l) => {
    if (l.startsWith(" ") || l.startsWith("\t")) return !skipping;
    skipping = /^bcc\s*:/i.test(l);
    return !skipping;
  });
  if (kept.length === lines.length) return bytes;
  const out = kept.join("") + (end < 0 ? "" : text.slice(end));
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

type Created = { id: string; obj: Record<string, unknown> } | { error: JsonObject };

/** One create: checks, sends, returns the stored object or the SetError. */
async function createOne(
  ctx: MethodContext,
  doc: RecordDoc,
  obj: JsonObject,
): Promise<Created> {
  const bad = Object.keys(obj).filter((k) =>
    !["identityId", "emailId", "envelope", "sendAt", "undoStatus"].includes(k)
  );
  if (obj.undoStatus !== undefined && obj.undoStatus !== "final") bad.push("undoStatus");
  if (bad.length > 0) return { error: { type: "invalidProperties", properties: bad } };
  const emailId = typeof obj.emailId === "string" && obj.emailId.startsWith("#")
    ? ctx.createdIds.get(obj.emailId.slice(1))
    : obj.emailId;
  const identityId = typeof obj.identityId === "string" && obj.identityId.startsWith("#")
    ? ctx.createdIds.get(obj.identityId.slice(1))
    : obj.identityId;
  const { identities } = await loadIdentities(ctx);
  const identity = typeof identityId === "string" ? identities.get(identityId) : undefined;
  if (!identity) return { error: { type: "invalidProperties", properties: ["identityId"] } };
  const blob = parseEmailId(emailId);
  const store = ctx.deps.store;
  const emails = await loadEmails(store, ctx.account.id);
  const email = blob === null ? undefined : emails.get(blob);
  if (!email) return { error: { type: "invalidProperties", properties: ["emailId"] } };
  const bytes = await readListedEmail(store, ctx.account.id, email.blobId);
  // Destroyed since it was listed: as if it had never been there.
  if (!bytes) return { error: { type: "invalidProperties", properties: ["emailId"] } };
  const root = parseMime(bytes);
  let envelope: { mailFrom: { email: string }; rcptTo: Array<{ email: string }> };
  if (obj.envelope === undefined || obj.envelope === null) {
    const senders = addresses(headerAs(root, "sender", "Addresses"));
    const froms = addresses(headerAs(root, "from", "Addresses"));
    const author = senders[0] ?? froms[0];
    const rcpts = [
      ...new Set(
        ["to", "cc", "bcc"].flatMap((f) => addresses(headerAs(root, f, "Addresses"))),
      ),
    ];
    // §7: an author the identity may not use falls back to the identity's address.
    const mailFrom = author && author.toLowerCase() === String(identity.email)
      ? author
      : String(identity.email);
    envelope = { mailFrom: { email: mailFrom }, rcptTo: rcpts.map((email) => ({ email })) };
  } else {
    const e = obj.envelope;
    const ok = isObject(e) && isObject(e.mailFrom) && typeof e.mailFrom.email === "string" &&
      Array.isArray(e.rcptTo) && e.rcptTo.length <= 1000 &&
      e.rcptTo.every((r) => isObject(r) && typeof r.email === "string");
    if (!ok) return { error: { type: "invalidProperties", properties: ["envelope"] } };
    envelope = {
      mailFrom: { email: (e.mailFrom as JsonObject).email as string },
      rcptTo: (e.rcptTo as JsonObject[]).map((r) => ({ email: r.email as string })),
    };
  }
  const messageId = newMessageId(ctx.deps.now());
  const result = await submitMessage(ctx.deps, {
    account: ctx.account,
    id: messageId,
    mailFrom: envelope.mailFrom.email,
    rcptTo: envelope.rcptTo.map((r) => r.email),
    message: withoutBcc(bytes),
    clientIp: ctx.client.ip,
    tls: ctx.client.secure,
    via: ctx.client.secure ? "HTTPSA" : "HTTPA",
  });
  if (!result.ok) {
    const r = result.refusal;
    log.info("jmap", "submission refused", {
      user: ctx.account.email,
      reason: r.kind,
      detail: r.text,
    });
    return {
      error: {
        type: r.kind,
        description: r.text,
        ...(r.kind === "invalidRecipients" ? { invalidRecipients: r.recipients } : {}),
      },
    };
  }
  log.info("jmap", "submitted", {
    id: messageId,
    user: ctx.account.email,
    from: envelope.mailFrom.email,
    to: envelope.rcptTo.map((r) => r.email).join(","),
    ...(result.queueId !== null ? { queue: result.queueId } : {}),
  });
  const id = `s${doc.next++}`;
  const deliveryStatus: JsonObject = {};
  for (const r of envelope.rcptTo) {
    deliveryStatus[r.email] = {
      smtpReply: `250 2.0.0 Message accepted as ${messageId}`,
      delivered: "queued",
      displayed: "unknown",
    };
  }
  return {
    id,
    obj: {
      identityId,
      emailId: emailIdOf(email.blobId),
      threadId: threadIdOf(email.threadId),
      envelope: {
        mailFrom: { ...envelope.mailFrom, parameters: null },
        rcptTo: envelope.rcptTo.map((r) => ({ ...r, parameters: null })),
      },
      sendAt: utcDate(ctx.deps.now()),
      undoStatus: "final",
      deliveryStatus,
      dsnBlobIds: [],
      mdnBlobIds: [],
    },
  };
}

/** RFC 8621 §7.5: the implicit Email/set after the submissions, as its own response. */
async function onSuccess(
  ctx: MethodContext,
  accountId: string,
  doc: RecordDoc,
  created: JsonObject,
  args: JsonObject,
): Promise<void> {
  const update = objectArg(args, "onSuccessUpdateEmail");
  const destroy = Array.isArray(args.onSuccessDestroyEmail) ? args.onSuccessDestroyEmail : null;
  if (!update && !destroy) return;
  const subOf = (ref: unknown): string | undefined => {
    if (typeof ref !== "string") return undefined;
    if (ref.startsWith("#")) return (created[ref.slice(1)] as { id?: string } | undefined)?.id;
    return ref;
  };
  const store = ctx.deps.store;
  const mailboxes = await store.listMailboxes(ctx.account.id);
  const out = {
    accountId,
    oldState: await stateOf(store, ctx.account.id, "email"),
    newState: "",
    updated: null as JsonObject | null,
    notUpdated: null as JsonObject | null,
    destroyed: null as string[] | null,
    notDestroyed: null as JsonObject | null,
  };
  for (const [ref, patch] of Object.entries(update ?? {})) {
    const sub = subOf(ref);
    if (sub === undefined || !doc.objects[sub] || !isObject(patch)) continue;
    const emailId = doc.objects[sub].emailId as string;
    // Each update sees what the ones before it did (as Email/set's own updates do).
    const view: SetView = {
      mailboxes: new Map(mailboxes.map((m) => [m.id, m])),
      emails: await loadEmails(store, ctx.account.id),
    };
    const r = await oneObject(async () => {
      const e = view.emails.get(parseEmailId(emailId)!);
      if (!e) throw new SetFailure("notFound");
      await updateEmail(ctx, view, e, patch);
      return null;
    });
    if (isSetError(r)) (out.notUpdated ??= {})[emailId] = r;
    else (out.updated ??= {})[emailId] = null;
  }
  for (const ref of destroy ?? []) {
    const sub = subOf(ref);
    if (sub === undefined || !doc.objects[sub]) continue;
    const emailId = doc.objects[sub].emailId as string;
    const emails = await loadEmails(store, ctx.account.id);
    const e = emails.get(parseEmailId(emailId)!);
    if (e) {
      await destroyEmail(ctx, e);
      (out.destroyed ??= []).push(emailId);
    } else (out.notDestroyed ??= {})[emailId] = { type: "notFound" };
  }
  out.newState = await stateOf(store, ctx.account.id, "email");
  ctx.followUps.push(["Email/set", out]);
}

const set: JmapMethod = {
  capability: SUBMISSION,
  run(ctx, args) {
    checkArgs(args, [
      "accountId",
      "ifInState",
      "create",
      "update",
      "destroy",
      "onSuccessUpdateEmail",
      "onSuccessDestroyEmail",
    ]);
    const accountId = requireAccount(ctx, args);
    return ctx.locks.with(TYPE, ctx.account.id, async () => {
      const doc = await readDoc(ctx.deps.store, TYPE, ctx.account.id);
      const oldState = String(doc.state);
      const ifInState = stringArg(args, "ifInState");
      if (ifInState !== null && ifInState !== oldState) throw new MethodError("stateMismatch");
      const create = objectArg(args, "create") ?? {};
      const update = objectArg(args, "update") ?? {};
      const destroy = idList(args, "destroy", ctx.limits.maxObjectsInSet) ?? [];
      const n = Object.keys(create).length + Object.keys(update).length + destroy.length;
      if (n > ctx.limits.maxObjectsInSet) throw new MethodError("requestTooLarge");
      const created: JsonObject = {};
      const notCreated: JsonObject = {};
      const updated: JsonObject = {};
      const notUpdated: JsonObject = {};
      const destroyed: string[] = [];
      const notDestroyed: JsonObject = {};
      for (const [cid, obj] of Object.entries(create)) {
        if (!isObject(obj)) {
          notCreated[cid] = { type: "invalidArguments" };
          continue;
        }
        const r = await createOne(ctx, doc, obj);
        if ("error" in r) {
          notCreated[cid] = r.error;
          continue;
        }
        doc.objects[r.id] = r.obj;
        noteChange(doc, r.id, "c");
        ctx.createdIds.set(cid, r.id);
        created[cid] = { id: r.id, sendAt: r.obj.sendAt, undoStatus: "final" };
      }
      for (const [id, patch] of Object.entries(update)) {
        if (!Object.hasOwn(doc.objects, id)) notUpdated[id] = { type: "notFound" };
        else if (!isObject(patch) || Object.keys(patch).some((k) => k !== "undoStatus")) {
          notUpdated[id] = { type: "invalidProperties", properties: ["undoStatus"] };
        } else if (patch.undoStatus === "final") updated[id] = null;
        else notUpdated[id] = { type: "cannotUnsend" }; // §7.5: sent at once, always final
      }
      for (const id of destroy) {
        if (!Object.hasOwn(doc.objects, id)) notDestroyed[id] = { type: "notFound" };
        else {
          delete doc.objects[id];
          noteChange(doc, id, "d");
          destroyed.push(id);
        }
      }
      // Keep the newest MAX_OBJECTS: the oldest final submissions go first.
      const ids = Object.keys(doc.objects);
      for (const id of ids.slice(0, Math.max(0, ids.length - MAX_OBJECTS))) {
        delete doc.objects[id];
        noteChange(doc, id, "d");
      }
      if (String(doc.state) !== oldState) {
        await writeDoc(ctx.deps.store, TYPE, ctx.account.id, doc);
        ctx.push.recordChanged(ctx.account.id, "EmailSubmission", String(doc.state));
      }
      await onSuccess(ctx, accountId, doc, created, args);
      return {
        accountId,
        oldState,
        newState: String(doc.state),
        created,
        notCreated,
        updated,
        notUpdated,
        destroyed,
        notDestroyed,
      };
    });
  },
};

export const SUBMISSION_METHODS: Record<string, JmapMethod> = {
  "EmailSubmission/get": get,
  "EmailSubmission/changes": changes,
  "EmailSubmission/query": query,
  "EmailSubmission/queryChanges": queryChanges,
  "EmailSubmission/set": set,
};
