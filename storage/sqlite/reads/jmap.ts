/**
 * JMAP reads of the SQLite store: bearer tokens (tokens.ts), uploads (uploads.ts), the small
 * per-account documents (jmap_records.ts) and the change log (change_log.ts). Those modules
 * hold the schema, the writes and the row mapping.
 *
 * @module
 */
import type { ApiToken, ChangeKind, ChangeRecord, Upload } from "../../mod.ts";
import type { Statements } from "../rows.ts";
import { API_TOKEN_COLUMNS, toApiToken } from "../tokens.ts";
import { toUpload, UPLOAD_COLUMNS } from "../uploads.ts";
import { HEAD_SQL, SINCE_SQL, toChangeRecord } from "../change_log.ts";
import { row, rows } from "./query.ts";

export function findApiToken(read: Statements, tokenHash: string): ApiToken | null {
  const r = row(
    read,
    `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?`,
    tokenHash,
  );
  return r ? toApiToken(r) : null;
}

export function listApiTokens(read: Statements, accountId: number): ApiToken[] {
  return rows(
    read,
    `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE account_id = ? ORDER BY id`,
    accountId,
  ).map(toApiToken);
}

export function getJmapRecord(read: Statements, accountId: number, type: string): string | null {
  const r = row(
    read,
    "SELECT doc FROM jmap_records WHERE account_id = ? AND type = ?",
    accountId,
    type,
  );
  return r ? r.doc as string : null;
}

export function readUpload(
  read: Statements,
  accountId: number,
  id: number,
): { upload: Upload; data: Uint8Array } | null {
  const r = row(
    read,
    `SELECT ${UPLOAD_COLUMNS}, data FROM uploads WHERE id = ? AND account_id = ?`,
    id,
    accountId,
  );
  return r ? { upload: toUpload(r), data: new Uint8Array(r.data as Uint8Array) } : null;
}

export function changeLogHead(read: Statements, accountId: number, kind: ChangeKind): number {
  return row(read, HEAD_SQL, accountId, kind)!.n as number;
}

export function changeLogSince(
  read: Statements,
  accountId: number,
  kind: ChangeKind,
  after: number,
  limit: number,
): ChangeRecord[] {
  return rows(read, SINCE_SQL, accountId, kind, after, limit).map(toChangeRecord);
}
