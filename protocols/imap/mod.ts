/**
 * IMAP server (RFC 9051 / RFC 3501) for the imap and imaps listeners.
 * PLACEHOLDER: being written; the signature is the contract with core/server.ts.
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";

export function imapHandler(_deps: ServerDeps, _opts: { implicitTls: boolean }): ProtocolHandler {
  return {
    handle: async (conn) => {
      await conn.write("* BYE IMAP not implemented yet\r\n");
    },
    refuse: async (conn) => {
      await conn.write("* BYE Too many connections\r\n");
    },
  };
}
