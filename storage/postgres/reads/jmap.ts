/**
 * JMAP reads of the PostgreSQL store: bearer tokens and uploads (writes/tokens.ts,
 * writes/uploads.ts), the small per-account documents (writes/jmap_records.ts) and the
 * change log (../change_log.ts). Each is one statement on the pool: one committed snapshot.
 *
 * @module
 */
import type { ApiToken, ChangeKind, ChangeRecord, Upload } from "../../mod.ts";
import { HEAD_SQL, SINCE_SQL, toChangeRecord } from "../change_log.ts";
import {
  API_TOKEN_COLUMNS,
  type Read,
  toApiToken,
  toBytes,
  toUpload,
  UPLOAD_COLUMNS,
} from "../rows.ts";

/** PostgreSQL text cannot hold NUL: such a name was never stored. */
function hasNul(s: string): boolean {
  return s.includes("\u0000");
}

export async function findApiToken(read: Read, tokenHash: string): Promise<ApiToken | null> {
  if (hasNul(tokenHash)) return null; // never stored (a hash is hex digits)
  const [r] = await read(`SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1`, [
    tokenHash,
  ]);
  return r ? toApiToken(r) : null;
}

export async function listApiTokens(read: Read, accountId: number): Promise<ApiToken[]> {
  return (await read(
    `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE account_id = $1 ORDER BY id`,
    [accountId],
  )).map(toApiToken);
}

export async function getJmapRecord(
  read: Read,
  accountId: number,
  type: string,
): Promise<string | null> {
  if (hasNul(type)) return null; // never stored (types are [a-z]{1,32})
  const [r] = await read("SELECT doc FROM jmap_records WHERE account_id = $1 AND type = $2", [
    accountId,
    type,
  ]);
  return r ? r.doc as string : null;
}

export async function readUpload(
  read: Read,
  accountId: number,
  id: number,
): Promise<{ upload: Upload; data: Uint8Array } | null> {
  const [r] = await read(
    `SELECT ${UPLOAD_COLUMNS}, data FROM uploads WHERE id = $1 AND account_id = $2`,
    [id, accountId],
  );
  return r ? { upload: toUpload(r), data: toBytes(r.data as Uint8Array) } : null;
}

export async function changeLogHead(
  read: Read,
  accountId: number,
  kind: ChangeKind,
): Promise<number> {
  return (await read(HEAD_SQL, [accountId, kind]))[0].n as number;
}

export async function changeLogSince(
  read: Read,
  accountId: number,
  kind: ChangeKind,
  after: number,
  limit: number,
): Promise<ChangeRecord[]> {
  return (await read(SINCE_SQL, [
    accountId,
    kind,
    Math.trunc(after),
    Math.max(0, Math.trunc(limit)),
  ])).map(toChangeRecord);
}
