/**
 * Delivery status notifications the sender is owed (RFC 3464 bounces, action=failed, and
 * delay warnings, action=delayed): what is owed, kept as data in the queue entry, and how
 * one is sent (into the sender's INBOX when local, else queued back from the null sender).
 *
 * Why notices are data first: the runner records an attempt's results and the notices they
 * owe in ONE queue-entry update (one durable commit), and sends them afterwards. A crash in
 * between leaves an entry that still says "notices owed", so the next pass sends them: a
 * notice is never lost, and delivered recipients are never attempted again. Sending is
 * at-least-once (a crash after the notice is stored but before the entry is cleared sends it
 * twice), like any SMTP delivery.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { QueueEntry, Store } from "../../storage/mod.ts";
import type { Router } from "../router.ts";
import { log, messageRef } from "../../lib/log.ts";
import { buildDsn, type ReportedRecipient } from "./dsn.ts";

/** One notification the sender is owed, as stored in `entry.meta.notices`. */
export interface OwedNotice {
  action: "failed" | "delayed";
  recipients: ReportedRecipient[];
  /** When the attempt that caused it ended (Last-Attempt-Date, Date). */
  at: number;
}

/** The notices an entry still owes (malformed meta counts as none). No I/O. */
export function owedNotices(meta: Record<string, unknown>): OwedNotice[] {
  const n = meta.notices;
  if (!Array.isArray(n)) return [];
  return n.filter((x): x is OwedNotice =>
    typeof x === "object" && x !== null &&
    (x.action === "failed" || x.action === "delayed") &&
    Array.isArray(x.recipients) && x.recipients.length > 0 && typeof x.at === "number"
  );
}

/** What sending a notice needs. */
export interface NoticeDeps {
  config: Config;
  store: Store;
  router: Router;
}

/**
 * Sends one notice about `entry` to its envelope sender. Resolves once the notice is
 * durably stored (delivered locally or queued). A sender we cannot route is logged and
 * the notice dropped: there is nobody to tell.
 */
export async function sendNotice(
  deps: NoticeDeps,
  entry: QueueEntry,
  message: Uint8Array,
  notice: OwedNotice,
): Promise<void> {
  const { store, router, config } = deps;
  const dsn = buildDsn({
    hostname: config.hostname,
    sender: entry.sender,
    recipients: notice.recipients,
    original: message,
    // RFC 3461 §4.3: RET governs failure reports; a delay warning carries the header only.
    ret: notice.action === "delayed"
      ? "HDRS"
      : typeof entry.meta.ret === "string"
      ? entry.meta.ret
      : null,
    envid: typeof entry.meta.envid === "string" ? entry.meta.envid : null,
    arrivalDate: entry.createdAt,
    now: notice.at,
  });
  const route = await router.resolve(entry.sender, { mayRelay: true });
  if (route.kind === "reject") {
    log.warn("queue", "notice undeliverable: sender unknown", {
      id: entry.id,
      sender: entry.sender,
      action: notice.action,
    });
    return;
  }
  const writes: Promise<unknown>[] = [];
  if (route.local.length > 0) {
    const prefix = new TextEncoder().encode("Return-Path: <>\r\n");
    const withPath = new Uint8Array(prefix.length + dsn.length);
    withPath.set(prefix);
    withPath.set(dsn, prefix.length);
    writes.push(store.deliver(
      withPath,
      route.local.map((l) => ({ accountId: l.accountId, mailbox: "INBOX" })),
    ));
  }
  if (route.remote.length > 0) {
    // RFC 3464 §2 / RFC 5321 §4.5.5: from the null sender, so it is never bounced itself.
    writes.push(store.enqueue(dsn, {
      sender: "",
      recipients: route.remote.map((address) => ({ address, status: "pending" })),
      nextAttemptAt: notice.at,
      meta: { bounceOf: entry.id, action: notice.action },
    }));
  }
  await Promise.all(writes);
  log.info("queue", notice.action === "failed" ? "bounce sent" : "delay warning sent", {
    id: entry.id,
    ...messageRef(entry),
    to: entry.sender,
    recipients: notice.recipients.map((r) => r.address).join(","),
  });
}
