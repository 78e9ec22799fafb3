/**
 * SMTP server (RFC 5321) for the MX (`smtp`), `submission` and `submissions` listeners.
 *
 * The session (`session.ts`) reads bounded lines, parses them (`parser.ts`), checks the
 * state table (`state.ts`) and dispatches to `commands/`; accepted messages become store
 * writes in `delivery.ts`, and 250 is sent only after they are durably committed.
 *
 * Where things are: each command in `commands/` (`commands/mod.ts` is the verb table), the
 * per-listener rules (what each role offers and requires) in `policy.ts`, relay decisions in
 * `core/router.ts` (called from `commands/rcpt.ts`), sender identity in `core/identity.ts`, plugin
 * hooks in `hooks.ts`. May import `core/`, `plugins/` (engine, from `hooks.ts`), `storage/`,
 * `mime/`, `lib/`; never another protocol.
 * `client/` is the outbound side (the queue's SmtpSender, injected by app/server.ts); both
 * sides speak the one reply model of `replies.ts`.
 *
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";
import type { SmtpRole } from "./context.ts";
import { formatReply, reply } from "./replies.ts";
import { Session } from "./session.ts";

export type { SmtpRole } from "./context.ts";

/** The protocol handler for one SMTP listener. */
export function smtpHandler(deps: ServerDeps, role: SmtpRole): ProtocolHandler {
  return {
    handle: (conn) => new Session(deps, conn, role).run(),
    // RFC 5321 §3.1: a server that cannot serve answers 421 and closes.
    refuse: async (conn) => {
      await conn.write(
        formatReply(
          reply(421, "", `${deps.config.hostname} Too many connections, try again later`),
        ),
      );
    },
  };
}
