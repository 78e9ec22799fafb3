/**
 * JMAP ids (RFC 8620 §1.2: 1–255 characters of [A-Za-z0-9_-]) derived from storage ids, so
 * they are stable across restarts and need no table of their own:
 *
 * | object  | id         | from                                                        |
 * | ------- | ---------- | ----------------------------------------------------------- |
 * | account | `a<id>`    | Account.id                                                  |
 * | mailbox | `m<id>`    | Mailbox.id                                                  |
 * | email   | `e<blob>`  | the message's blob: copies in several mailboxes of one      |
 * |         |            | account are one Email with several mailboxIds (RFC 8621 §4) |
 * | thread  | `t<blob>`  | the blob of the thread's first Email (storage threads.ts)   |
 * | blob    | `b<blob>`  | a stored message; `u<id>` an upload;                        |
 * |         |            | `p<blob>_1_2` part 1.2 of a message (transfer-decoded);     |
 * |         |            | `q<id>_1_2` part 1.2 of an upload (Email/parse)             |
 *
 * A parsed id says nothing about ownership: every lookup also checks the account.
 *
 * @module
 */

/** Parses `<prefix><positive integer>`; null for anything else. */
function parse(prefix: string, id: unknown): number | null {
  if (typeof id !== "string" || id.length > 20 || !id.startsWith(prefix)) return null;
  const digits = id.slice(prefix.length);
  if (!/^[1-9][0-9]{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

export const accountIdOf = (id: number) => `a${id}`;
export const parseAccountId = (id: unknown) => parse("a", id);
export const mailboxIdOf = (id: number) => `m${id}`;
export const parseMailboxId = (id: unknown) => parse("m", id);
export const emailIdOf = (blobId: number) => `e${blobId}`;
export const parseEmailId = (id: unknown) => parse("e", id);
export const threadIdOf = (blobId: number) => `t${blobId}`;
export const parseThreadId = (id: unknown) => parse("t", id);
export const blobIdOf = (blobId: number) => `b${blobId}`;
export const parseBlobId = (id: unknown) => parse("b", id);
export const uploadIdOf = (id: number) => `u${id}`;
export const parseUploadId = (id: unknown) => parse("u", id);

/** The blob id of the part at section `path` of a stored message. */
export const partBlobIdOf = (blobId: number, path: readonly number[]) =>
  `p${blobId}${path.map((n) => `_${n}`).join("")}`;

/** The blob id of the part at section `path` of an upload (a message given to Email/parse). */
export const uploadPartBlobIdOf = (uploadId: number, path: readonly number[]) =>
  `q${uploadId}${path.map((n) => `_${n}`).join("")}`;

/** `{ blob, path }` of a part blob id (`prefix` "q": `blob` is an upload's id), or null. */
export function parsePartBlobId(
  id: unknown,
  prefix: "p" | "q" = "p",
): { blob: number; path: number[] } | null {
  if (typeof id !== "string" || id.length > 255 || !id.startsWith(prefix)) return null;
  const [head, ...rest] = id.slice(1).split("_");
  const blob = parse("", head);
  if (blob === null || rest.length > 50) return null;
  const path = rest.map((n) => parse("", n));
  if (path.some((n) => n === null || n > 100_000)) return null;
  return { blob, path: path as number[] };
}
