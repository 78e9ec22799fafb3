/**
 * STARTTLS (RFC 9051 §6.2.1).
 *
 * @module
 */
import { noArgs } from "../context.ts";
import { bad } from "../errors.ts";

/** RFC 9051 §6.2.1: OK, then the TLS handshake; pipelined plaintext is discarded. */
export const STARTTLS = noArgs((ctx) => {
  if (ctx.conn.isTls) return Promise.reject(bad("TLS is already active"));
  return Promise.resolve({ text: "Begin TLS negotiation now", after: () => ctx.startTls() });
});
