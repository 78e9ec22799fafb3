/**
 * SMTP server (RFC 5321) for the MX, submission and submissions listeners.
 * PLACEHOLDER: being written; the signature is the contract with core/server.ts.
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";

export type SmtpRole = "mx" | "submission" | "submissions";

export function smtpHandler(_deps: ServerDeps, _role: SmtpRole): ProtocolHandler {
  return {
    handle: async (conn) => {
      await conn.write("421 4.3.2 SMTP not implemented yet\r\n");
    },
    refuse: async (conn) => {
      await conn.write("421 4.7.0 Too many connections\r\n");
    },
  };
}
