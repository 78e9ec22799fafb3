/**
 * Email/set update and destroy (RFC 8621 §4.6): keywords and mailboxIds, whole or by patch
 * path (RFC 8620 §5.3 PatchObject), written as IMAP would: keywords become the copies'
 * flags (one STORE per copy that changes), a mailbox swapped for another is a MOVE, an
 * added one a COPY, a removed one an EXPUNGE of that copy. Each of these raises the
 * mailboxes' MODSEQs and writes the change log, so IMAP clients (IDLE, CONDSTORE) and
 * Email/changes both see them. Moves into or out of Junk and $Junk/$NotJunk teach the
 * spam filter (hooks.ts).
 *
 * @module
 */
import { type Mailbox, StoreError } from "../../../storage/mod.ts";
import type { EmailEntry } from "./account_view.ts";
import type { MethodContext } from "./context.ts";
import { SetFailure } from "./errors.ts";
import { type Moved, notifyKeywords, notifyMoves } from "./hooks.ts";
import { parseMailboxId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";
import { flagsOf, isKeyword, keywordsOf } from "./keywords.ts";
import {
  exceedsMailboxKeywords,
  hasKeyword,
  MAX_MAILBOX_KEYWORDS,
  MAX_MESSAGE_KEYWORDS,
  noteKeywords,
} from "../../../core/mailbox_keywords.ts";
import { log } from "../../../lib/log.ts";

/** The account as one /set sees it. */
export interface SetView {
  mailboxes: Map<number, Mailbox>;
  emails: Map<number, EmailEntry>;
}

/** RFC 6901 JSON Pointer token unescaping. */
const unescape = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/** A mailbox id of the account, `#creationId` of one made earlier in the request. */
export function resolveMailbox(ctx: MethodContext, view: SetView, id: string): Mailbox | null {
  const real = id.startsWith("#") ? ctx.createdIds.get(id.slice(1)) : id;
  const n = parseMailboxId(real);
  return n === null ? null : view.mailboxes.get(n) ?? null;
}

/** A whole mailboxIds value: the mailboxes, or invalidProperties. */
export function mailboxSet(ctx: MethodContext, view: SetView, v: unknown): Map<number, Mailbox> {
  if (!isObject(v)) throw new SetFailure("invalidProperties", "mailboxIds", ["mailboxIds"]);
  const out = new Map<number, Mailbox>();
  for (const [id, on] of Object.entries(v)) {
    const mb = resolveMailbox(ctx, view, id);
    if (on !== true || !mb) {
      throw new SetFailure("invalidProperties", `no mailbox ${id.slice(0, 40)}`, ["mailboxIds"]);
    }
    out.set(mb.id, mb);
  }
  return out;
}

/** A whole keywords value: lower-case keywords, or invalidProperties. */
export function keywordSet(v: unknown): Set<string> {
  if (!isObject(v)) throw new SetFailure("invalidProperties", "keywords", ["keywords"]);
  const out = new Set<string>();
  for (const [k, on] of Object.entries(v)) {
    if (on !== true || !isKeyword(k)) {
      throw new SetFailure("invalidProperties", `bad keyword ${k.slice(0, 40)}`, ["keywords"]);
    }
    out.add(k.toLowerCase());
  }
  return checkKeywordCount(out);
}

/** RFC 8621 §4.6 tooManyKeywords past MAX_MESSAGE_KEYWORDS (system flags not counted). */
function checkKeywordCount(keywords: Set<string>): Set<string> {
  const n = flagsOf(keywords).filter((f) => !f.startsWith("\\")).length;
  if (n > MAX_MESSAGE_KEYWORDS) {
    throw new SetFailure("tooManyKeywords", `at most ${MAX_MESSAGE_KEYWORDS} keywords`);
  }
  return keywords;
}

/**
 * The keyword records of `boxes` when storing `flags` in them keeps each within
 * MAX_MAILBOX_KEYWORDS (core/mailbox_keywords.ts; every IMAP FLAGS response lists them all),
 * else tooManyKeywords (RFC 8621 §4.6), logged. Note `flags` in the records once stored.
 */
export async function mailboxKeywordRecords(
  ctx: MethodContext,
  boxes: Iterable<Mailbox>,
  flags: readonly string[],
): Promise<Map<string, string>[]> {
  if (!hasKeyword(flags)) return [];
  const records = [];
  for (const mb of boxes) {
    const known = await ctx.deps.mailboxKeywords.complete(ctx.deps.store, mb);
    if (exceedsMailboxKeywords(known, flags)) {
      log.info("jmap", "refused: mailbox keyword limit", {
        user: ctx.account.email,
        mailbox: mb.name,
      });
      throw new SetFailure(
        "tooManyKeywords",
        `a mailbox may have at most ${MAX_MAILBOX_KEYWORDS} keywords`,
      );
    }
    records.push(known);
  }
  return records;
}

/** Applies one update; throws SetFailure for this Email only. */
export async function updateEmail(
  ctx: MethodContext,
  view: SetView,
  e: EmailEntry,
  patch: JsonObject,
): Promise<void> {
  let keywords: Set<string> | null = null;
  const boxes = new Map(e.mailboxIds.map((id) => [id, view.mailboxes.get(id)!]));
  let boxesTouched = false;
  for (const [path, value] of Object.entries(patch)) {
    if (path === "keywords") keywords = keywordSet(value);
    else if (path.startsWith("keywords/")) {
      const k = unescape(path.slice(9));
      if (!isKeyword(k) || (value !== true && value !== null)) {
        throw new SetFailure("invalidProperties", `bad keyword ${k.slice(0, 40)}`, [path]);
      }
      keywords ??= new Set(Object.keys(keywordsOf(e.flags)));
      if (value === true) keywords.add(k.toLowerCase());
      else keywords.delete(k.toLowerCase());
    } else if (path === "mailboxIds") {
      boxes.clear();
      for (const [id, mb] of mailboxSet(ctx, view, value)) boxes.set(id, mb);
      boxesTouched = true;
    } else if (path.startsWith("mailboxIds/")) {
      const mb = resolveMailbox(ctx, view, unescape(path.slice(11)));
      if (!mb || (value !== true && value !== null)) {
        throw new SetFailure("invalidProperties", "no such mailbox", [path]);
      }
      if (value === true) boxes.set(mb.id, mb);
      else boxes.delete(mb.id);
      boxesTouched = true;
    } else {
      throw new SetFailure("invalidProperties", `cannot update ${path.slice(0, 60)}`, [path]);
    }
  }
  if (boxes.size === 0) {
    throw new SetFailure("invalidProperties", "an Email needs a mailbox", ["mailboxIds"]);
  }
  // The keywords the Email ends with, in every mailbox it ends in.
  const flags = keywords ? flagsOf(checkKeywordCount(keywords)) : [...e.flags];
  const records = await mailboxKeywordRecords(ctx, boxes.values(), flags);
  try {
    if (keywords) await setKeywords(ctx, view, e, keywords);
    if (boxesTouched) await setMailboxes(ctx, view, e, boxes);
    for (const known of records) noteKeywords(known, flags);
  } catch (err) {
    if (err instanceof StoreError && err.code === "quota") throw new SetFailure("overQuota");
    throw err;
  }
}

/** Sets every copy's flags to the keywords (\Deleted, which has no keyword, is kept). */
async function setKeywords(
  ctx: MethodContext,
  view: SetView,
  e: EmailEntry,
  keywords: Set<string>,
): Promise<void> {
  const store = ctx.deps.store;
  const wanted = flagsOf(keywords);
  const changes = [];
  for (const [mbId, uid] of e.copies) {
    const [meta] = await store.getMessages(mbId, [uid]);
    if (!meta) continue;
    const keep = meta.flags.filter((f) => f.toLowerCase() === "\\deleted");
    const flags = [...wanted, ...keep];
    const same = (a: string[], b: string[]) => {
      const x = new Set(a.map((f) => f.toLowerCase()).filter((f) => f !== "\\recent"));
      const y = new Set(b.map((f) => f.toLowerCase()));
      return x.size === y.size && [...x].every((f) => y.has(f));
    };
    if (same(meta.flags, flags)) continue;
    await store.updateFlags({ mailboxId: mbId, uids: [uid], op: "set", flags });
    changes.push({
      mailbox: view.mailboxes.get(mbId)!,
      uid,
      blobId: e.blobId,
      before: meta.flags,
      after: flags,
    });
  }
  notifyKeywords(ctx, changes);
}

/** Puts the Email in exactly `boxes`: MOVE where one mailbox replaces another, else COPY/EXPUNGE. */
async function setMailboxes(
  ctx: MethodContext,
  view: SetView,
  e: EmailEntry,
  boxes: Map<number, Mailbox>,
): Promise<void> {
  const store = ctx.deps.store;
  const added = [...boxes.values()].filter((mb) => !e.mailboxIds.includes(mb.id));
  const removed = e.copies.filter(([mb]) => !boxes.has(mb));
  const moves: Moved[] = [];
  for (const to of added) {
    const take = removed.shift();
    const [fromId, uid] = take ?? e.copies.find(([mb]) => boxes.has(mb))!;
    const from = view.mailboxes.get(fromId)!;
    const pairs = take
      ? await store.moveMessages(fromId, [uid], to.id)
      : await store.copyMessages(fromId, [uid], to.id);
    for (const [, dest] of pairs) {
      moves.push({ from, to, command: take ? "move" : "copy", blobId: e.blobId, uid: dest });
    }
  }
  const left = new Map<number, number[]>();
  for (const [mb, uid] of removed) left.set(mb, [...left.get(mb) ?? [], uid]);
  for (const [mb, uids] of left) await store.expunge(mb, uids);
  notifyMoves(ctx, moves);
}

/** Removes every copy of the Email (RFC 8621 §4.6: destroy removes it from all mailboxes). */
export async function destroyEmail(ctx: MethodContext, e: EmailEntry): Promise<void> {
  const byMailbox = new Map<number, number[]>();
  for (const [mb, uid] of e.copies) byMailbox.set(mb, [...byMailbox.get(mb) ?? [], uid]);
  for (const [mb, uids] of byMailbox) await ctx.deps.store.expunge(mb, uids);
}
