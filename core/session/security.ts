/**
 * The two transport-security rules every protocol shares: when a password may cross the
 * connection, and the STARTTLS / STLS handshake.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { type Connection, ConnectionClosedError } from "../connection.ts";
import type { ServerDeps } from "../deps.ts";
import { log } from "../../lib/log.ts";

/**
 * May credentials be sent now? Only over TLS (RFC 8314 §3, RFC 4954 §4, RFC 9051 §11.1,
 * RFC 2595 §2.1), or from loopback when `auth.allow_plaintext_loopback` is set.
 */
export function plaintextAuthAllowed(conn: Connection, config: Pick<Config, "auth">): boolean {
  return conn.isTls || (conn.isLoopback && config.auth.allowPlaintextLoopback);
}

/**
 * The server side of STARTTLS (RFC 3207 §4, RFC 9051 §6.2.1) and STLS (RFC 2595 §4), after
 * the protocol's "go ahead" reply is written. The handshake is bounded by
 * `limits.tls_handshake_timeout`; plaintext pipelined after the command is discarded
 * (Connection.startTls). A failed handshake ends the session (ConnectionClosedError):
 * nothing sensible can be said in the clear any more.
 */
export async function startTlsHandshake(
  deps: Pick<ServerDeps, "config" | "tls">,
  conn: Connection,
  protocol: string,
): Promise<void> {
  try {
    await conn.startTls(deps.tls.context(), deps.config.limits.tlsHandshakeTimeoutMs);
  } catch (e) {
    log.debug(protocol, "TLS handshake failed", {
      ip: conn.remoteAddress,
      error: (e as Error).message,
    });
    throw new ConnectionClosedError();
  }
}
