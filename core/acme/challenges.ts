/**
 * The challenges being answered right now, shared by the ACME client and the listeners:
 * HTTP-01 key authorizations by token (RFC 8555 §8.3) for the http listener, and the
 * TLS-ALPN-01 certificates by domain (RFC 8737 §3) for the https listener.
 *
 * A TLS-ALPN-01 certificate is served by a private TLS listener on loopback (Deno's TLS
 * takes one certificate and ALPN list per listener); the https front (protocols/http/
 * alpn_front.ts) hands it the connections that offer "acme-tls/1" for that domain.
 *
 * @module
 */
import { log } from "../../lib/log.ts";

const ALPN_ACME = "acme-tls/1";
const ALPN_CONN_TIMEOUT_MS = 10_000;

interface AlpnEntry {
  listener: Deno.TlsListener;
  port: number;
}

export class AcmeChallenges {
  #http = new Map<string, string>();
  #alpn = new Map<string, AlpnEntry>();

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

  /** Loopback port serving the TLS-ALPN-01 certificate of `domain`, if one is pending. */
  alpnPort(domain: string): number | undefined {
    return this.#alpn.get(domain.toLowerCase())?.port;
  }

  /** True while any TLS-ALPN-01 challenge is pending. */
  get alpnPending(): boolean {
    return this.#alpn.size > 0;
  }

  addAlpn(domain: string, certPem: string, keyPem: string): void {
    this.removeAlpn(domain);
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: certPem,
      key: keyPem,
      alpnProtocols: [ALPN_ACME],
    });
    this.#alpn.set(domain.toLowerCase(), { listener, port: listener.addr.port });
    (async () => {
      for await (const conn of listener) serveOnce(conn, domain);
    })().catch(() => {});
  }

  removeAlpn(domain: string): void {
    const e = this.#alpn.get(domain.toLowerCase());
    if (!e) return;
    this.#alpn.delete(domain.toLowerCase());
    try {
      e.listener.close();
    } catch { /* closed */ }
  }

  close(): void {
    for (const d of [...this.#alpn.keys()]) this.removeAlpn(d);
    this.#http.clear();
  }
}

/** Completes the handshake (that is the whole validation), then waits for the peer to close. */
async function serveOnce(conn: Deno.TlsConn, domain: string): Promise<void> {
  const timer = setTimeout(() => conn.close(), ALPN_CONN_TIMEOUT_MS);
  try {
    await conn.handshake();
    log.info("acme", `tls-alpn-01 handshake for ${domain}`);
    const buf = new Uint8Array(512);
    while ((await conn.read(buf)) !== null) { /* the validator sends nothing useful */ }
  } catch {
    /* the validator hung up */
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}
