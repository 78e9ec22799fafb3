/**
 * The challenges being answered right now, shared by the ACME client and the listeners:
 * HTTP-01 key authorizations by token (RFC 8555 §8.3) for the http listener, and the
 * TLS-ALPN-01 certificates by domain (RFC 8737 §3) for the https listener, whose front
 * (protocols/http/alpn_front.ts) hands over each connection that offers "acme-tls/1".
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { log } from "../../lib/log.ts";
import type { ClientHello } from "./client_hello.ts";
import { serverFlight, unsupported } from "./tls_alpn_responder.ts";

const ALPN_CONN_TIMEOUT_MS = 10_000;

export class AcmeChallenges {
  #http = new Map<string, string>();
  #alpn = new Map<string, { certDer: Uint8Array; key: KeyObject }>();

  /** The key authorization for an HTTP-01 token, if one is pending. */
  httpKeyAuthorization(token: string): string | undefined {
    return this.#http.get(token);
  }

  addHttp(token: string, keyAuthorization: string): void {
    this.#http.set(token, keyAuthorization);
  }

  removeHttp(token: string): void {
    this.#http.delete(token);
  }

  addAlpn(domain: string, certDer: Uint8Array, key: KeyObject): void {
    this.#alpn.set(domain.toLowerCase(), { certDer, key });
  }

  removeAlpn(domain: string): void {
    this.#alpn.delete(domain.toLowerCase());
  }

  /**
   * Answers the acme-tls/1 handshake on `conn` (whose first record was `hello`) with the
   * challenge certificate of the name it asks for; false when none is pending for it.
   * Returns once the validator hangs up (or after 10 s).
   */
  async respondAlpn(conn: Deno.Conn, hello: ClientHello): Promise<boolean> {
    const entry = hello.serverName ? this.#alpn.get(hello.serverName) : undefined;
    if (!entry) return false;
    const why = unsupported(hello);
    if (why) log.warn("acme", `tls-alpn-01 handshake for ${hello.serverName} refused: ${why}`);
    const timer = setTimeout(() => conn.close(), ALPN_CONN_TIMEOUT_MS);
    try {
      const flight = serverFlight(hello, entry.certDer, entry.key);
      for (let off = 0; off < flight.length;) off += await conn.write(flight.subarray(off));
      if (!why) log.info("acme", `tls-alpn-01 handshake answered for ${hello.serverName}`);
      const buf = new Uint8Array(1024);
      while ((await conn.read(buf)) !== null) { /* the client's Finished; then it hangs up */ }
    } catch {
      /* the validator hung up */
    } finally {
      clearTimeout(timer);
    }
    return true;
  }

  close(): void {
    this.#alpn.clear();
    this.#http.clear();
  }
}
