/**
 * The IMAP side of the plugin hooks: `deliver` for APPEND (so a plugin can encrypt a
 * client's Sent copy, say) and `mailbox_move` when a user moves or copies messages into or
 * out of Junk, or marks them $Junk / $NotJunk with STORE (so a spam filter can learn). The IMAP commands call these with one line
 * each; with no plugin declaring the hook they return at once without building anything.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import type { Mailbox, MessageMeta } from "../../storage/mod.ts";
import type { SessionContext } from "./context.ts";
import { Code } from "./codes.ts";
import { no } from "./errors.ts";
import type { PluginHost } from "../../plugins/engine/host.ts";
import { refusalOf } from "../../core/deliver_hook.ts";
import { keywordKind, moveKind } from "../../core/junk_learning.ts";

export { keywordKind, moveKind };
import type { MailboxMoveContext, SessionInfo } from "../../plugins/sdk.ts";
import { addressOf } from "../../plugins/engine/address.ts";

/** The session as plugins see it; its id is kept per connection in `deps.hookState`. */
function info(ctx: SessionContext): SessionInfo {
  const { conn, account } = ctx;
  const ids = ctx.deps.hookState.sessionIds;
  let id = ids.get(conn);
  if (!id) ids.set(conn, id = `imap-${crypto.randomUUID().slice(0, 8)}`);
  return {
    id,
    remoteIp: conn.remoteAddress,
    role: "imap",
    tls: conn.isTls,
    ...(account ? { user: account.email } : {}),
  };
}

/** What the deliver hook decided for an APPEND. */
export interface AppendDecision {
  /** The bytes to store (a plugin may have transformed them). */
  message: Uint8Array;
  /** A plugin dropped the message: answer OK, store nothing. */
  discard: boolean;
}

/**
 * Runs the deliver hook for an APPEND of `message` into `mb`. Throws an ImapError (NO) when
 * a plugin refuses: tempfail and plugin failures as NO [UNAVAILABLE] (RFC 5530), reject as
 * NO [CANNOT]. A mailbox a plugin picks is ignored: the client named the mailbox.
 */
export async function appendDeliverHook(
  ctx: SessionContext,
  mb: Mailbox,
  message: Uint8Array,
  flags: string[],
): Promise<AppendDecision> {
  const host = ctx.deps.plugins;
  if (!host?.wants("deliver") || !ctx.account) return { message, discard: false };
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
  if (refused) {
    throw no(refused.text, out.action === "reject" ? Code.CANNOT : Code.UNAVAILABLE);
  }
  return { message: out.message ?? message, discard: out.action === "discard" };
}

/**
 * Tells plugins about messages moved or copied into or out of Junk. Fire-and-forget:
 * returns at once; the messages are read and reported one at a time in the background.
 */
export function notifyMailboxMove(
  ctx: SessionContext,
  move: {
    from: Mailbox;
    to: Mailbox;
    command: "copy" | "move";
    /** Each moved message: its blob and its UID in the destination. */
    messages: Array<{ blobId: number; uid: number }>;
  },
): void {
  const kind = moveKind(move.from, move.to);
  if (!kind || !ctx.deps.plugins?.wants("mailbox_move") || !ctx.account) return;
  report(ctx, {
    from: move.from.name,
    to: move.to.name,
    command: move.command,
    messages: move.messages.map((m) => ({ ...m, kind })),
  });
}

/**
 * Tells plugins (mailbox_move, command "store") about messages a STORE newly marked
 * $Junk / $NotJunk, as mail programs that mark instead of moving (Apple Mail,
 * Thunderbird) teach a filter. Fire-and-forget, like notifyMailboxMove.
 */
export function notifyJunkKeywords(
  ctx: SessionContext,
  store: {
    mailbox: Mailbox;
    /** The messages as they were before the STORE. */
    before: readonly MessageMeta[];
    /** The messages whose flags the STORE changed, as they are now. */
    changed: readonly MessageMeta[];
  },
): void {
  if (store.changed.length === 0) return;
  if (!ctx.deps.plugins?.wants("mailbox_move") || !ctx.account) return;
  const old = new Map(store.before.map((m) => [m.uid, m.flags]));
  const messages: Array<{ blobId: number; uid: number; kind: "junk" | "ham" }> = [];
  for (const m of store.changed) {
    const kind = keywordKind(old.get(m.uid) ?? [], m.flags);
    if (kind) messages.push({ blobId: m.blobId, uid: m.uid, kind });
  }
  if (messages.length === 0) return;
  const name = store.mailbox.name;
  report(ctx, { from: name, to: name, command: "store", messages });
}

/** Reads and reports each message to mailbox_move, one at a time, in the background. */
function report(
  ctx: SessionContext,
  r: {
    from: string;
    to: string;
    command: MailboxMoveContext["command"];
    messages: Array<{ blobId: number; uid: number; kind: "junk" | "ham" }>;
  },
): void {
  const host: PluginHost = ctx.deps.plugins!;
  const session = info(ctx);
  const user = ctx.account!.email;
  const store = ctx.deps.store;
  (async () => {
    for (const m of r.messages) {
      const message = await store.readBlob(m.blobId);
      await host.run("mailbox_move", {
        session,
        user,
        from: r.from,
        to: r.to,
        kind: m.kind,
        command: r.command,
        uid: m.uid,
        message,
      });
    }
  })().catch((e) =>
    log.warn("plugin", "mailbox_move notification failed", { error: (e as Error).message })
  );
}
