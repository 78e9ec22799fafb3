/**
 * The blob store seam: message bodies by content, apart from the rows that describe messages.
 *
 * A stored message is a `blobs` row (its id names a JMAP Email's bytes; size, SHA-256 of the
 * whole message, reference count) plus its bytes. Two SMTP deliveries of one newsletter
 * differ in their Received:/Return-Path lines but share everything after the header block,
 * so a body of at least `SHARED_BODY_MIN` octets is kept once, by its SHA-256, in a
 * `BlobStore`; the message row then keeps only its header block and the body's digest.
 * Smaller messages stay whole in the row (a shared entry would cost more than it saves).
 *
 * Both backends keep their BlobStore in their own database today (storage/sqlite/blobs.ts:
 * table `blob_bodies`, reference counts kept by triggers; storage/postgres/blob_store.ts:
 * table `blob_bodies`, swept by `deleteUnreferenced`). Every store write and read of body
 * bytes goes through this interface; only the checkers (`verify`, `repair`) and the bulk
 * copy of `storage migrate` read the tables directly. An S3-compatible store would
 * implement it with PUT/GET (Range)/HEAD/DELETE of an object named by the hex digest.
 *
 * Invariants an implementation keeps:
 * - `put` is idempotent by digest: the same bytes put twice are stored once.
 * - `put` is part of the caller's transaction `tx`: durable when it commits, gone when it
 *   rolls back (a DB store gets this for free; an object store uploads before the commit
 *   and lets `deleteUnreferenced` sweep objects no committed row names).
 * - Bytes are immutable; `get` of a digest never put (or swept) is a StoreError
 *   "not_found" naming the digest, never empty bytes.
 * - `deleteUnreferenced` removes only bodies no message row names, and never one that a
 *   transaction in flight is about to name.
 *
 * `R<T>` lets an implementation be synchronous (SQLite) or asynchronous (PostgreSQL, an
 * object store).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { StoreError } from "./mod.ts";

/** A value now or later. */
export type R<T> = T | Promise<T>;

/** Message bodies by SHA-256 digest. `Tx`: the backend's transaction or read handle. */
export interface BlobStore<Tx> {
  /** Stores `bytes` (once per digest) and returns their SHA-256 digest. */
  put(tx: Tx, bytes: Uint8Array): R<Uint8Array>;
  /** The bytes stored under `digest`; StoreError "not_found" when there are none. */
  get(tx: Tx, digest: Uint8Array): R<Uint8Array>;
  /** Bytes [offset, offset + length), clipped to the end; "not_found" as `get`. */
  getRange(tx: Tx, digest: Uint8Array, offset: number, length: number): R<Uint8Array>;
  has(tx: Tx, digest: Uint8Array): R<boolean>;
  /** Removes bodies no message names any more; returns how many it removed. */
  deleteUnreferenced(tx: Tx): R<number>;
}

/** Bodies shorter than this stay inline in the message row. */
export const SHARED_BODY_MIN = 4096;

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

export function hex(digest: Uint8Array): string {
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The error of a `get` whose digest has no bytes. */
export function missingBody(digest: Uint8Array): StoreError {
  return new StoreError("not_found", `no stored body with SHA-256 ${hex(digest)}`);
}

/** Where the body starts: after the first empty line (CRLF CRLF or LF LF), or -1. */
export function bodyStart(m: Uint8Array): number {
  for (let i = 0; i + 1 < m.length; i++) {
    if (m[i] !== 10) continue;
    if (m[i + 1] === 10) return i + 2;
    if (m[i + 1] === 13 && m[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Where a message splits into an inline head and a shared body, or -1 to keep it whole. */
export function splitAt(message: Uint8Array): number {
  const at = bodyStart(message);
  return at < 0 || message.byteLength - at < SHARED_BODY_MIN ? -1 : at;
}

/** Clamps a (offset, length) request to non-negative integers. */
export function clampRange(offset: number, length: number): [start: number, len: number] {
  return [Math.max(0, Math.trunc(offset)), Math.max(0, Math.trunc(length))];
}

/**
 * For bytes [start, start + len) of a message stored as a head of `headLength` octets (the
 * row's inline part) and a shared body: the range of the body they need, or null.
 */
export function bodyPart(
  start: number,
  len: number,
  headLength: number,
): [offset: number, length: number] | null {
  const end = start + len;
  if (end <= headLength) return null;
  const from = Math.max(start, headLength);
  return [from - headLength, end - from];
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  if (b.byteLength === 0) return a;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
