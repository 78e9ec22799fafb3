/**
 * How many keywords a message may carry and a mailbox may have (RFC 9051 §2.3.2 leaves it
 * to the server; beyond them STORE and APPEND get NO [LIMIT], RFC 5530 §3). Without bounds
 * one client grew messages' flags, the mailbox's FLAGS response and the server's keyword
 * record (core/mailbox_keywords.ts) without end: each 64 KB STORE line adds about 5,000
 * keywords, and after two of them a FETCH 1:* FLAGS of 1,000 messages was 58 MB.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import {
  exceedsMailboxKeywords,
  MAX_MAILBOX_KEYWORDS,
  MAX_MESSAGE_KEYWORDS,
} from "../../core/mailbox_keywords.ts";
import { Code } from "./codes.ts";
import type { SessionContext } from "./context.ts";
import { type ImapError, no } from "./errors.ts";

function refuse(ctx: SessionContext, what: string): ImapError {
  log.info("imap", `refused: ${what}`, {
    ip: ctx.conn.remoteAddress,
    user: ctx.account?.email ?? "",
  });
  return no(what, Code.LIMIT);
}

/** Lower-cased keywords (not system flags) among `flags`. */
function keywordsIn(flags: Iterable<string>, into = new Set<string>()): Set<string> {
  for (const f of flags) if (!f.startsWith("\\")) into.add(f.toLowerCase());
  return into;
}

/**
 * Throws NO [LIMIT] unless a message that has `has` and gets `adds` stays within
 * MAX_MESSAGE_KEYWORDS, for each of `messages` (the flags each has now).
 */
export function checkMessageKeywords(
  ctx: SessionContext,
  adds: readonly string[],
  messages: Iterable<readonly string[]>,
): void {
  const added = keywordsIn(adds);
  if (added.size === 0) return;
  for (const has of messages) {
    if (keywordsIn(has, new Set(added)).size > MAX_MESSAGE_KEYWORDS) {
      throw refuse(ctx, `A message may carry at most ${MAX_MESSAGE_KEYWORDS} keywords`);
    }
  }
}

/**
 * Throws NO [LIMIT] when `adds` would bring the keywords the mailbox has had (`known`,
 * lower case -> as spelled) past MAX_MAILBOX_KEYWORDS.
 */
export function checkMailboxKeywords(
  ctx: SessionContext,
  adds: readonly string[],
  known: ReadonlyMap<string, string>,
): void {
  if (exceedsMailboxKeywords(known, adds)) {
    throw refuse(ctx, `A mailbox may have at most ${MAX_MAILBOX_KEYWORDS} keywords`);
  }
}
