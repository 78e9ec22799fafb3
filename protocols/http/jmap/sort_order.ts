/**
 * Mailbox `sortOrder` (RFC 8621 §2.1), which IMAP has no place for: one JSON document per
 * account (`{"<mailbox id>": n}`) among the Store's JMAP records, so no schema change.
 *
 * Invariants: a mailbox without an entry has mailbox.ts's default (by role); values are
 * UnsignedInt (RFC 8620 §1.3); writes run under the records lock of the document, so two
 * requests of a user never lose each other's update.
 *
 * @module
 */
import type { Store } from "../../../storage/mod.ts";
import type { MethodContext } from "./context.ts";
import { isObject } from "./json.ts";

/** The records document type ([a-z]{1,32}). */
const TYPE = "mailboxsortorder";

/** RFC 8620 §1.3 UnsignedInt: 0 ≤ n ≤ 2^53-1. */
export const isUnsignedInt = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** The account's stored sort orders by mailbox id. */
export async function readSortOrders(
  store: Store,
  accountId: number,
): Promise<Map<number, number>> {
  const raw = await store.getJmapRecord(accountId, TYPE);
  const out = new Map<number, number>();
  if (raw === null) return out;
  const doc: unknown = JSON.parse(raw);
  if (!isObject(doc)) return out;
  for (const [id, n] of Object.entries(doc)) if (isUnsignedInt(n)) out.set(Number(id), n);
  return out;
}

/** Stores the mailbox's sort order, or removes it (null: the mailbox is gone). */
export function writeSortOrder(
  ctx: MethodContext,
  mailboxId: number,
  sortOrder: number | null,
): Promise<void> {
  const store = ctx.deps.store;
  const accountId = ctx.account.id;
  return ctx.locks.with(TYPE, accountId, async () => {
    const orders = await readSortOrders(store, accountId);
    if (sortOrder === null) {
      if (!orders.delete(mailboxId)) return;
    } else orders.set(mailboxId, sortOrder);
    await store.putJmapRecord(accountId, TYPE, JSON.stringify(Object.fromEntries(orders)));
  });
}
