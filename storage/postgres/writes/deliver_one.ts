/**
 * A delivery to one existing mailbox (the common case: SMTP to one local recipient) in one
 * call of `denomail_deliver_one` (../deliver_sql.ts), so the mailbox's row lock — which every
 * delivery into that mailbox waits for, until COMMIT — is held for one round trip and the
 * commit instead of some eight. What needs no lock (the blob and its search text, the thread
 * headers) is done by the caller and here before the call.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type DeliveryTarget, type MailboxChange, type Placed, StoreError } from "../../mod.ts";
import { splitAt } from "../../blobs.ts";
import { asBase64 } from "../blob_store.ts";
import { normalizeFlags } from "../../names.ts";
import { threadInputs } from "./threads.ts";
import { q1, type WriteContext } from "./context.ts";
import { type Db, PREPARED, type Row } from "../rows.ts";
import type { KnownBodies } from "../known_bodies.ts";

/** One delivery of a batch, or of `deliver` (messages.ts). */
export interface OneDelivery {
  message: Uint8Array;
  target: DeliveryTarget;
  /** The target's mailbox name, normalised (INBOX for an invalid one). */
  name: string;
  internalDate: number;
}

/**
 * Places blob `blobId` (the bytes `d.message`) in the target's mailbox (INBOX when it has
 * none of that name). A refusal ("not_found", "quota") is returned, not thrown, having
 * written nothing. With `origin`, the call also sends the change's notification
 * (change_bus.ts) and the change is not to be notified again.
 * Issues its one statement at once (before any await): callers may pipeline several.
 */
export async function placeOne(
  ctx: WriteContext,
  d: OneDelivery,
  blobId: number,
  origin: string | null,
): Promise<Placed | StoreError> {
  const flags = normalizeFlags(d.target.flags ?? []);
  const th = threadInputs(d.message);
  const r = await q1(
    ctx,
    "SELECT * FROM denomail_deliver_one($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    [
      d.target.accountId,
      d.name,
      blobId,
      d.message.byteLength,
      flags.join(" "),
      flags.includes("\\Seen"),
      flags.includes("\\Deleted"),
      d.internalDate,
      th.refs as never,
      th.ids as never,
      th.subject,
      origin,
    ],
  );
  return answer(ctx.changes, d, r);
}

/** A `denomail_deliver_one` row as the delivery's placement (its change noted) or refusal. */
function answer(
  changes: MailboxChange[],
  d: OneDelivery,
  r: Row | undefined,
): Placed | StoreError {
  if (r?.o_status === "quota") return new StoreError("quota", `quota exceeded for ${r.o_detail}`);
  if (r?.o_status !== "ok") {
    return new StoreError("not_found", `no such account: ${d.target.accountId}`);
  }
  const mailboxId = r.o_mailbox as number;
  const uid = r.o_uid as number;
  changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: r.o_modseq as number });
  return { accountId: d.target.accountId, mailboxId, uid, uidValidity: r.o_uid_validity as number };
}

/**
 * A whole group commit (../delivery_batch.ts) in one statement, `denomail_deliver_batch_blobs`
 * (../deliver_sql.ts), run on `db` outside any explicit transaction: PostgreSQL commits it
 * before it answers. It stores each delivery's blob (as writes/blobs.ts `storeBlob`: shared
 * body by digest, search text left to the indexer), places it as `placeOne` would, removes
 * the refused deliveries' blobs and sends the batch's one notification (from `origin`).
 * Answers in the order of `batch`; each placement's change is added to `changes`.
 */
export async function deliverBatchStatement(
  db: Db,
  batch: OneDelivery[],
  origin: string,
  changes: MailboxChange[],
  rows: BatchRow[] = batch.map((d) => batchRow(d)),
): Promise<Array<Placed | StoreError>> {
  const col = <K extends keyof BatchRow>(k: K) => rows.map((r) => r[k]);
  const query = db.unsafe(
    `SELECT * FROM denomail_deliver_batch_blobs($1::text[], $2::text[], $3::text[], $4::text[],
       $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[]::boolean[],
       $10::text[]::boolean[], $11::bigint[], $12::text::jsonb, $13::text::jsonb, $14::text[],
       $15::text)`,
    [
      col("digest"),
      col("data"),
      col("bodyDigest"),
      col("body"),
      batch.map((d) => d.target.accountId),
      batch.map((d) => d.name),
      batch.map((d) => d.message.byteLength),
      col("flags"),
      col("seen"),
      col("deleted"),
      batch.map((d) => d.internalDate),
      `[${col("refs").join(",")}]`,
      `[${col("ids").join(",")}]`,
      col("subject"),
      origin,
    ] as never[],
    PREPARED,
  );
  const out = await query as unknown as Row[];
  return batch.map((d, i) => answer(changes, d, out[i]));
}

/**
 * A delivery's own arguments of `deliverBatchStatement` (digests, base64 bytes, thread
 * headers): computed when the delivery is queued (../delivery_batch.ts), while the batch
 * before it commits, so that a batch is sent as soon as that one is done.
 */
export interface BatchRow {
  digest: string;
  data: string;
  bodyDigest: string | null;
  /** Base64; null with a `bodyDigest` when the body is named by its digest alone. */
  body: string | null;
  flags: string;
  /** The driver sends no boolean[]: 't'/'f' texts, cast in SQL. */
  seen: "t" | "f";
  deleted: "t" | "f";
  /** JSON arrays of strings. */
  refs: string;
  ids: string;
  subject: string;
}

/**
 * `d`'s `BatchRow`. A body in `known` (stored by a batch that committed) is named by its
 * digest alone: `body` is null (deliver_known_bodies_sql.ts).
 */
export function batchRow(d: OneDelivery, known?: KnownBodies): BatchRow {
  const flags = normalizeFlags(d.target.flags ?? []);
  const th = threadInputs(d.message);
  const at = splitAt(d.message);
  const hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const bodyDigest = at < 0 ? null : hex(d.message.subarray(at));
  return {
    digest: hex(d.message),
    data: asBase64(at < 0 ? d.message : d.message.subarray(0, at)),
    bodyDigest,
    body: bodyDigest === null || known?.has(bodyDigest) ? null : asBase64(d.message.subarray(at)),
    flags: flags.join(" "),
    seen: flags.includes("\\Seen") ? "t" : "f",
    deleted: flags.includes("\\Deleted") ? "t" : "f",
    refs: JSON.stringify(th.refs),
    ids: JSON.stringify(th.ids),
    subject: th.subject,
  };
}

/** `placeOne` for a write of its own: a refusal is thrown (the transaction rolls back). */
export async function deliverOne(
  ctx: WriteContext,
  d: OneDelivery,
  blobId: number,
): Promise<Placed> {
  // The notification goes out in the call when nothing before it is still to be sent.
  const notifies = ctx.origin !== undefined && ctx.notified === ctx.changes.length;
  const r = await placeOne(ctx, d, blobId, notifies ? ctx.origin! : null);
  if (r instanceof StoreError) throw r;
  if (notifies) ctx.notified = ctx.changes.length;
  return r;
}
