/**
 * POP3 server (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) for the pop3 and
 * pop3s listeners. The maildrop is the account's INBOX.
 *
 * Layout: `session.ts` (loop, batching, error replies), `parser.ts`, `states.ts` (which
 * commands each state allows), `commands/` (one family per file, `commands/mod.ts` is the
 * verb table), `maildrop.ts` (the per-session view), `message_text.ts` (dot-stuffing,
 * TOP), `replies.ts`. One session per maildrop: `deps.maildropLocks` (core/maildrop_lock.ts).
 *
 * May import `core/`, `storage/`, `mime/`, `lib/`; never another protocol.
 *
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";
import { err, RESP } from "./replies.ts";
import { Pop3Session } from "./session.ts";

/**
 * The POP3 protocol handler. With `implicitTls` (pop3s, RFC 8314) the listener has already
 * completed the TLS handshake; otherwise STLS upgrades the connection.
 */
export function pop3Handler(deps: ServerDeps, _opts: { implicitTls: boolean }): ProtocolHandler {
  return {
    handle: async (conn) => {
      await new Pop3Session(deps, conn).run();
    },
    refuse: async (conn) => {
      // RFC 3206 §4: a temporary condition; the client may try again later.
      await conn.write(err("Too many connections, try again later", RESP.sysTemp));
    },
  };
}
