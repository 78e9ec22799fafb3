/**
 * The JMAP side of the plugin hooks, as IMAP has its own (protocols/imap/hooks.ts):
 * `deliver` before Email/set create and Email/import store a message (like APPEND: source
 * "append", the account as sender and recipient), and `mailbox_move` when Email/set moves
 * or copies Emails into or out of Junk or newly marks them $Junk / $NotJunk, so a spam
 * filter learns whichever protocol the user's client speaks. The decisions are shared:
 * core/deliver_hook.ts (refusals), core/junk_learning.ts (what teaches).
 *
 * With no plugin declaring a hook these return at once without building anything.
 *
 * @module
 */
import { refusalOf } from "../../../core/deliver_hook.ts";
import { keywordKind, moveKind } from "../../../core/junk_learning.ts";
import { log } from "../../../lib/log.ts";
import { addressOf } from "../../../plugins/engine/address.ts";
import type { SessionInfo } from "../../../plugins/sdk.ts";
import type { Mailbox } from "../../../storage/mod.ts";
import type { MethodContext } from "./context.ts";

function info(ctx: MethodContext): SessionInfo {
  return {
    id: `jmap-${crypto.randomUUID().slice(0, 8)}`,
    remoteIp: "",
    role: "jmap",
    tls: true,
    user: ctx.account.email,
  };
}

/** The deliver hook's answer for one message a JMAP method is about to store. */
export type StoreDecision =
  | { kind: "store"; message: Uint8Array }
  | { kind: "discard" }
  | { kind: "refused"; text: string };

/** Runs the deliver hook for `message` going into `mb` with `flags`. */
export async function deliverHook(
  ctx: MethodContext,
  mb: Mailbox,
  message: Uint8Array,
  flags: string[],
): Promise<StoreDecision> {
  const host = ctx.deps.plugins;
  if (!host?.wants("deliver")) return { kind: "store", message };
  const me = addressOf(ctx.account.email);
  const out = await host.run("deliver", {
    session: info(ctx),
    source: "append",
    sender: me,
    recipient: me,
    account: ctx.account.email,
    mailbox: mb.name,
    specialUse: mb.specialUse,
    flags,
    message,
  });
  const refused = refusalOf(out);
  if (refused) return { kind: "refused", text: refused.text };
  if (out.action === "discard") return { kind: "discard" };
  return { kind: "store", message: out.message ?? message };
}

/** One message that went from one mailbox to another (uid: in the destination). */
export interface Moved {
  from: Mailbox;
  to: Mailbox;
  command: "copy" | "move";
  blobId: number;
  uid: number;
}

/** Reports moves into/out of Junk to mailbox_move, in the background. */
export function notifyMoves(ctx: MethodContext, moves: readonly Moved[]): void {
  const host = ctx.deps.plugins;
  if (!host?.wants("mailbox_move")) return;
  const teach = moves.flatMap((m) => {
    const kind = moveKind(m.from, m.to);
    return kind ? [{ ...m, from: m.from.name, to: m.to.name, kind }] : [];
  });
  report(ctx, teach);
}

/** Reports copies whose keywords newly say $Junk / $NotJunk (command "store"). */
export function notifyKeywords(
  ctx: MethodContext,
  changes: ReadonlyArray<
    { mailbox: Mailbox; uid: number; blobId: number; before: string[]; after: string[] }
  >,
): void {
  const host = ctx.deps.plugins;
  if (!host?.wants("mailbox_move")) return;
  const teach = changes.flatMap((c) => {
    const kind = keywordKind(c.before, c.after);
    return kind
      ? [{ from: c.mailbox.name, to: c.mailbox.name, command: "store" as const, kind, ...c }]
      : [];
  });
  report(ctx, teach);
}

function report(
  ctx: MethodContext,
  items: ReadonlyArray<
    {
      from: string;
      to: string;
      command: "copy" | "move" | "store";
      kind: "junk" | "ham";
      blobId: number;
      uid: number;
    }
  >,
): void {
  if (items.length === 0) return;
  const host = ctx.deps.plugins!;
  const session = info(ctx);
  const store = ctx.deps.store;
  (async () => {
    for (const m of items) {
      const message = await store.readBlob(m.blobId);
      await host.run("mailbox_move", {
        session,
        user: ctx.account.email,
        from: m.from,
        to: m.to,
        kind: m.kind,
        command: m.command,
        uid: m.uid,
        message,
      });
    }
  })().catch((e) =>
    log.warn("plugin", "mailbox_move notification failed", { error: (e as Error).message })
  );
}
