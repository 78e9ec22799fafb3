/**
 * POP3 server (RFC 1939) for the pop3 and pop3s listeners.
 * PLACEHOLDER: being written; the signature is the contract with core/server.ts.
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";

export function pop3Handler(_deps: ServerDeps, _opts: { implicitTls: boolean }): ProtocolHandler {
  return {
    handle: async (conn) => {
      await conn.write("-ERR POP3 not implemented yet\r\n");
    },
    refuse: async (conn) => {
      await conn.write("-ERR [SYS/TEMP] Too many connections\r\n");
    },
  };
}
