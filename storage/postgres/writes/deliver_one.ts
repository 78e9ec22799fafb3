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
import { q1, type WriteContext } from "./context.ts";

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
  if (r?.o_status === "quota") return new StoreError("quota", `quota exceeded for ${r.o_detail}`);
  if (r?.o_status !== "ok") {
    return new StoreError("not_found", `no such account: ${d.target.accountId}`);
  }
  const mailboxId = r.o_mailbox as number;
  const uid = r.o_uid as number;
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: r.o_modseq as number });
  return { accountId: d.target.accountId, mailboxId, uid, uidValidity: r.o_uid_validity as number };
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
