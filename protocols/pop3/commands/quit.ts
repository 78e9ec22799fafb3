/**
 * QUIT (RFC 1939 §4, §6) and the UPDATE state.
 *
 * @module
 */
import type { CommandHandler } from "../context.ts";
import { log } from "../../../lib/log.ts";
import { syntaxError } from "../errors.ts";
import { err, ok, RESP } from "../replies.ts";

// RFC 1939 §4: QUIT in AUTHORIZATION ends the session; nothing changes.
// RFC 1939 §6: QUIT in TRANSACTION enters UPDATE: messages marked deleted are removed,
// then the session ends. A dropped connection never reaches UPDATE and deletes nothing.
export const quit: CommandHandler = async (ctx, cmd) => {
  if (cmd.args.length > 0) throw syntaxError("QUIT takes no arguments");
  const md = ctx.maildrop;
  ctx.end();
  if (ctx.state !== "TRANSACTION" || !md) {
    ctx.send(ok("Bye"));
    return;
  }
  ctx.enterUpdate();
  const store = ctx.deps.store;
  try {
    // Like Dovecot: messages retrieved with RETR become \Seen (for IMAP beside us), set
    // here in UPDATE and not at RETR, so a dropped session changes nothing.
    const seen = md.newlySeenUids();
    if (seen.length > 0) {
      await store.updateFlags({
        mailboxId: md.mailboxId,
        uids: seen,
        op: "add",
        flags: ["\\Seen"],
      });
    }
    const doomed = md.deletedUids();
    const removed = doomed.length > 0 ? await store.expunge(md.mailboxId, doomed) : [];
    ctx.send(ok(`Bye, ${removed.length} messages deleted`));
  } catch (e) {
    log.error("pop3", `UPDATE failed: ${(e as Error).message}`, { account: ctx.account?.email });
    // RFC 1939 §6: "-ERR some deleted messages not removed".
    ctx.send(err("Some deleted messages not removed", RESP.sysTemp));
  }
};
