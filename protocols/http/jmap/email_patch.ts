/**
 * The implicit Email/set of EmailSubmission/set (RFC 8621 §7.5 onSuccessUpdateEmail and
 * onSuccessDestroyEmail): keywords and mailboxIds patches and destroy, applied through the
 * Store to every IMAP copy of the Email.
 *
 * A minimal helper until Email/set (email_set.ts, being written in parallel) is on main;
 * then submission.ts should call that instead. Mailboxes are added before any is removed,
 * so an Email never has no copy; keywords go to every copy.
 *
 * @module
 */
import type { Store } from "../../../storage/mod.ts";
import type { EmailEntry } from "./account_view.ts";
import { parseMailboxId } from "./ids.ts";
import { isObject, type JsonObject } from "./json.ts";

const SYSTEM_FLAGS: Record<string, string> = {
  "$seen": "\\Seen",
  "$flagged": "\\Flagged",
  "$answered": "\\Answered",
  "$draft": "\\Draft",
};

/** The IMAP flag of a keyword (RFC 8621 §4.1.1), or null when it cannot be one. */
export function flagOf(keyword: string): string | null {
  const k = keyword.toLowerCase();
  if (SYSTEM_FLAGS[k]) return SYSTEM_FLAGS[k];
  // RFC 8621 §4.1.1 keyword characters: what IMAP allows in an atom, no "\\".
  return /^[!#-'*+\-.0-9;<=>?@A-Z^-z|~$]{1,255}$/i.test(k) && !k.startsWith("\\") ? k : null;
}

/** A SetError object when the patch cannot be applied, else null after applying it. */
export async function patchEmail(
  store: Store,
  e: EmailEntry,
  ownMailboxes: ReadonlySet<number>,
  patch: JsonObject,
): Promise<JsonObject | null> {
  const addBoxes = new Set<number>();
  const dropBoxes = new Set<number>();
  const addFlags = new Set<string>();
  const dropFlags = new Set<string>();
  let setFlags: string[] | null = null;
  const bad: string[] = [];
  for (const [path, v] of Object.entries(patch)) {
    if (path === "keywords" && isObject(v)) {
      const flags = Object.keys(v).map(flagOf);
      if (flags.some((f) => f === null)) bad.push(path);
      else setFlags = flags as string[];
    } else if (path.startsWith("keywords/")) {
      const f = flagOf(path.slice(9));
      if (f === null || (v !== true && v !== null)) bad.push(path);
      else (v ? addFlags : dropFlags).add(f);
    } else if (path === "mailboxIds" && isObject(v)) {
      const ids = Object.keys(v).map(parseMailboxId);
      if (ids.length === 0 || ids.some((m) => m === null || !ownMailboxes.has(m))) bad.push(path);
      else {
        for (const m of ids as number[]) addBoxes.add(m);
        for (const m of e.mailboxIds) if (!addBoxes.has(m)) dropBoxes.add(m);
      }
    } else if (path.startsWith("mailboxIds/")) {
      const m = parseMailboxId(path.slice(11));
      if (m === null || !ownMailboxes.has(m) || (v !== true && v !== null)) bad.push(path);
      else (v ? addBoxes : dropBoxes).add(m);
    } else bad.push(path);
  }
  if (bad.length > 0) return { type: "invalidPatch", properties: bad };
  const remaining = new Set([...e.mailboxIds, ...addBoxes].filter((m) => !dropBoxes.has(m)));
  if (remaining.size === 0) return { type: "invalidProperties", properties: ["mailboxIds"] };
  const copies = [...e.copies];
  const [srcBox, srcUid] = copies[0];
  for (const m of addBoxes) {
    if (e.mailboxIds.includes(m)) continue;
    for (const [, uid] of await store.copyMessages(srcBox, [srcUid], m)) copies.push([m, uid]);
  }
  for (const m of dropBoxes) {
    const uids = copies.filter(([b]) => b === m).map(([, u]) => u);
    if (uids.length > 0) await store.expunge(m, uids);
  }
  const kept = copies.filter(([b]) => !dropBoxes.has(b));
  for (const [mailboxId, uid] of kept) {
    if (setFlags) await store.updateFlags({ mailboxId, uids: [uid], op: "set", flags: setFlags });
    if (addFlags.size > 0) {
      await store.updateFlags({ mailboxId, uids: [uid], op: "add", flags: [...addFlags] });
    }
    if (dropFlags.size > 0) {
      await store.updateFlags({ mailboxId, uids: [uid], op: "remove", flags: [...dropFlags] });
    }
  }
  return null;
}

/** Destroys an Email: every copy expunged. */
export async function destroyEmail(store: Store, e: EmailEntry): Promise<void> {
  const byBox = new Map<number, number[]>();
  for (const [m, uid] of e.copies) byBox.set(m, [...(byBox.get(m) ?? []), uid]);
  for (const [m, uids] of byBox) await store.expunge(m, uids);
}
