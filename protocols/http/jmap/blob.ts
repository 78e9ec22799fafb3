/**
 * Binary data (RFC 8620 §6): upload (`POST /jmap/upload/{accountId}/`) and download
 * (`GET /jmap/download/{accountId}/{blobId}/{name}?accept={type}`).
 *
 * A blob id is a stored message of the account (`b<blob>`), a part of one (`p<blob>_1_2`,
 * transfer-decoded) or one of its uploads (`u<id>`). Both are looked up within the caller's own account only; a blob of another
 * account is 404, the same as one that does not exist.
 *
 * @module
 */
import type { Account, Store } from "../../../storage/mod.ts";
import { decodeBody, findPart, parseMime } from "../../../mime/mod.ts";
import { StoreError } from "../../../storage/mod.ts";
import type { ServerDeps } from "../../../core/deps.ts";
import { readBody } from "../body.ts";
import { text } from "../router.ts";
import { loadEmailsByBlob, readListedEmail } from "./account_view.ts";
import { problem } from "./errors.ts";
import { accountIdOf, parseBlobId, parsePartBlobId, parseUploadId, uploadIdOf } from "./ids.ts";
import type { JmapLimits } from "./limits.ts";

/** Uploads older than this are dropped (RFC 8620 §6.1 lets the server expire them). */
const UPLOAD_TTL_MS = 24 * 3600_000;

/** A media type we repeat back: type "/" subtype, token characters only. */
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

function mediaType(v: string | null, dflt: string): string {
  const t = (v ?? "").split(";")[0].trim();
  return MEDIA_TYPE.test(t) ? t.toLowerCase() : dflt;
}

/** RFC 8620 §6.1: stores the body as an upload of `account`. */
export async function upload(
  req: Request,
  opts: { deps: ServerDeps; account: Account; limits: JmapLimits; accountId: string },
): Promise<Response> {
  if (opts.accountId !== accountIdOf(opts.account.id)) return text(404, "no such account\n");
  const data = await readBody(req, opts.limits.maxSizeUpload);
  if (data === null) {
    return problem(413, "limit", `uploads are limited to ${opts.limits.maxSizeUpload} octets`, {
      limit: "maxSizeUpload",
    });
  }
  const type = mediaType(req.headers.get("content-type"), "application/octet-stream");
  const store = opts.deps.store;
  await store.expireUploads(Date.now() - UPLOAD_TTL_MS);
  try {
    const up = await store.storeUpload(opts.account.id, data, {
      type,
      maxAccountBytes: opts.limits.maxUploadBytesPerAccount,
    });
    return Response.json({
      accountId: opts.accountId,
      blobId: uploadIdOf(up.id),
      type: up.type,
      size: up.size,
    }, { status: 201 });
  } catch (e) {
    if (e instanceof StoreError && e.code === "quota") {
      return text(413, "too many pending uploads; use or wait for them to expire\n");
    }
    throw e;
  }
}

/** True when a message of the account is stored as `blob` (never another account's). */
async function ownsBlob(store: Store, accountId: number, blob: number): Promise<boolean> {
  return (await loadEmailsByBlob(store, accountId, [blob])).has(blob);
}

/**
 * The bytes and media type of blob `blobId` of the account (an upload, one of its messages,
 * or a part of one), or null when the account has no such blob: another account's blob is
 * as absent as one that never existed.
 */
export async function readAccountBlob(
  store: Store,
  accountId: number,
  blobId: string,
): Promise<{ data: Uint8Array; type: string } | null> {
  const uploadId = parseUploadId(blobId);
  const messageBlob = parseBlobId(blobId);
  const part = parsePartBlobId(blobId);
  const uploadPart = parsePartBlobId(blobId, "q");
  if (uploadId !== null) {
    const up = await store.readUpload(accountId, uploadId);
    return up ? { data: up.data, type: up.upload.type } : null;
  } else if (messageBlob !== null) {
    if (!await ownsBlob(store, accountId, messageBlob)) return null;
    // Destroyed between the check and the read: as absent as one that never existed.
    const data = await readListedEmail(store, accountId, messageBlob);
    return data && { data, type: "message/rfc822" };
  } else if (part !== null && await ownsBlob(store, accountId, part.blob)) {
    const data = await readListedEmail(store, accountId, part.blob);
    return data && partOf(data, part.path);
  } else if (uploadPart !== null) {
    // A part of an upload that Email/parse showed (email_copy.ts).
    const up = await store.readUpload(accountId, uploadPart.blob);
    return up ? partOf(up.data, uploadPart.path) : null;
  }
  return null;
}

/** A body part (email_body.ts) of a message: its content with the transfer encoding removed. */
function partOf(bytes: Uint8Array, path: number[]): { data: Uint8Array; type: string } | null {
  const p = findPart(parseMime(bytes), path);
  if (!p || p.kind === "multipart") return null;
  return {
    data: decodeBody(bytes, p) ?? bytes.subarray(p.bodyStart, p.bodyEnd),
    type: `${p.type}/${p.subtype}`,
  };
}

/** RFC 8620 §6.2: the bytes of a blob of `account`, byte-exact. */
export async function download(
  url: URL,
  opts: { deps: ServerDeps; account: Account; rest: string },
): Promise<Response> {
  // {accountId}/{blobId}/{name}: the name may hold anything but "/" (percent-encoded).
  const parts = opts.rest.split("/");
  if (parts.length !== 3) return text(404, "not found\n");
  const [accountId, blobId, rawName] = parts;
  if (accountId !== accountIdOf(opts.account.id)) return text(404, "not found\n");
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    return text(400, "bad name\n");
  }
  const found = await readAccountBlob(opts.deps.store, opts.account.id, blobId);
  if (!found) return text(404, "not found\n");
  const { data, type } = found;
  const headers = new Headers({
    "content-type": mediaType(url.searchParams.get("accept"), type),
    // RFC 6266 with RFC 8187 encoding: any name, safely.
    "content-disposition": `attachment; filename*=UTF-8''${
      encodeURIComponent(name.slice(0, 255)).replace(/['()*]/g, (c) =>
        `%${c.charCodeAt(0).toString(16)}`)
    }`,
    // Downloaded HTML must not run as our origin.
    "content-security-policy": "sandbox",
    // RFC 8620 §6.2: a blob's content never changes, but it is private to the user.
    "cache-control": "private, immutable, max-age=604800",
  });
  return new Response(data as Uint8Array<ArrayBuffer>, { headers });
}
