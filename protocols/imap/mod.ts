/**
 * IMAP server (RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1) for the imap and imaps listeners.
 *
 * Layout: `session.ts` (state machine and command loop), `states.ts` (which commands each
 * state allows), `parser.ts` (tokenizer over lines + literals), `commands/` (one handler per
 * command family, `commands/mod.ts` the verb table), `response.ts` (composition),
 * `selected.ts` (the selected mailbox view and its pending updates).
 *
 * May import `core/`, `plugins/` (engine, from `hooks.ts`), `storage/`, `mime/`, `lib/`; never
 * another protocol.
 *
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";
import { Code } from "./codes.ts";
import { untagged } from "./response.ts";
import { Session } from "./session.ts";

/** The protocol handler for one listener; `implicitTls` for imaps (port 993). */
export function imapHandler(deps: ServerDeps, _opts: { implicitTls: boolean }): ProtocolHandler {
  return {
    handle: (conn) => new Session(deps, conn).run(),
    refuse: async (conn) => {
      // RFC 9051 §7.1.5: BYE as the greeting when the server will not serve this client.
      await conn.write(untagged(`BYE [${Code.UNAVAILABLE}] Too many connections, try later`));
    },
  };
}
