/**
 * Saved drafts: each save creates the draft anew in Drafts with $draft (RFC 8621 §4.1.1: an
 * Email's content is immutable, so "replace" is create + destroy in one Email/set) and
 * destroys the copy it replaces; Send destroys the last one (jmap.ts send).
 *
 * @module
 */
import type { Jmap } from "./jmap.ts";

/** Saves `email` into `draftsId`, destroying `replaces`; resolves to the new Email's id. */
export async function saveDraft(
  jmap: Jmap,
  email: Record<string, unknown>,
  draftsId: string,
  replaces: string | null,
): Promise<string> {
  const [[, res]] = await jmap.call([
    ["Email/set", {
      accountId: jmap.accountId,
      create: {
        d: { ...email, mailboxIds: { [draftsId]: true }, keywords: { $draft: true, $seen: true } },
      },
      ...(replaces ? { destroy: [replaces] } : {}),
    }, "d"],
  ]);
  const made = (res.created as Record<string, { id: string }> | null)?.d;
  if (!made) {
    const why = Object.values((res.notCreated ?? {}) as Record<string, { type: string }>)[0];
    throw new Error(`the draft was not saved: ${why?.type ?? "refused"}`);
  }
  return made.id;
}

/** Destroys Emails for good (a discarded draft). */
export async function destroyEmails(jmap: Jmap, ids: string[]): Promise<void> {
  if (ids.length) {
    await jmap.call([["Email/set", { accountId: jmap.accountId, destroy: ids }, "x"]]);
  }
}
