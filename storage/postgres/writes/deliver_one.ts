/**
 * A delivery to one existing mailbox (the common case: SMTP to one local recipient) in one
 * call of `denomail_deliver_one` (../deliver_sql.ts), so the mailbox's row lock — which every
 * delivery into that mailbox waits for, until COMMIT — is held for one round trip and the
 * commit instead of some eight. What needs no lock (the blob and its search text, the thread
 * headers) is done by the caller and here before the call.
 *
 * @module
 */
import { type DeliveryTarget, type Placed, StoreError } from "../../mod.ts";
import { normalizeFlags } from "../../names.ts";
import { threadInputs } from "./threads.ts";
import { q, q1, type WriteContext } from "./context.ts";
import type { Row } from "../rows.ts";

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
  return answer(ctx, d, r);
}

/** A `denomail_deliver_one` row as the delivery's placement (its change noted) or refusal. */
function answer(ctx: WriteContext, d: OneDelivery, r: Row | undefined): Placed | StoreError {
  if (r?.o_status === "quota") return new StoreError("quota", `quota exceeded for ${r.o_detail}`);
  if (r?.o_status !== "ok") {
    return new StoreError("not_found", `no such account: ${d.target.accountId}`);
  }
  const mailboxId = r.o_mailbox as number;
  const uid = r.o_uid as number;
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: r.o_modseq as number });
  return { accountId: d.target.accountId, mailboxId, uid, uidValidity: r.o_uid_validity as number };
}

/**
 * `placeOne` for every delivery of a group commit in one statement (`denomail_deliver_batch`,
 * ../deliver_sql.ts), which also removes the refused deliveries' blobs and, with `origin`,
 * sends the batch's one notification. Answers in the order of `batch`.
 */
export async function placeBatch(
  ctx: WriteContext,
  batch: OneDelivery[],
  blobIds: number[],
  origin: string,
): Promise<Array<Placed | StoreError>> {
  const flags = batch.map((d) => normalizeFlags(d.target.flags ?? []));
  const th = batch.map((d) => threadInputs(d.message));
  // The driver sends no boolean[]: 't'/'f' texts, cast in SQL.
  const tf = (f: string) => flags.map((fl) => fl.includes(f) ? "t" : "f");
  const rows = await q(
    ctx,
    `SELECT * FROM denomail_deliver_batch($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],
       $5::text[], $6::text[]::boolean[], $7::text[]::boolean[], $8::bigint[], $9::text::jsonb,
       $10::text::jsonb, $11::text[], $12::text)`,
    [
      batch.map((d) => d.target.accountId),
      batch.map((d) => d.name),
      blobIds,
      batch.map((d) => d.message.byteLength),
      flags.map((f) => f.join(" ")),
      tf("\\Seen"),
      tf("\\Deleted"),
      batch.map((d) => d.internalDate),
      JSON.stringify(th.map((t) => t.refs)),
      JSON.stringify(th.map((t) => t.ids)),
      th.map((t) => t.subject),
      origin,
    ] as never[],
  );
  return batch.map((d, i) => answer(ctx, d, rows[i]));
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
