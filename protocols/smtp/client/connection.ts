/**
 * The client side of one SMTP connection: connect, bounded CRLF line reads with timeouts,
 * writes, and a client-side STARTTLS upgrade (RFC 3207) that records what TLS gave us. Lines
 * are read by core/connection.ts, the same bounded reader the servers use, over the socket.
 *
 * node:net / node:tls sockets, because Deno.startTls cannot relax certificate checks per
 * connection, and opportunistic TLS (RFC 7435) must accept any certificate.
 *
 * Invariant: after `upgradeTls()` no byte received before the handshake is ever returned
 * (RFC 3207 §6: a server that pipelined plaintext after 220 is ignored): the plaintext
 * reader and what it buffered are dropped with the plain socket.
 *
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { Connection, LineTooLongError, TimeoutError } from "../../../core/connection.ts";
import { SocketTransport } from "../../../core/transport.ts";
import { NetworkError } from "../../../core/queue/failure.ts";
import type { TlsResult } from "../../../core/queue/sender.ts";

/** One TCP connection to a mail server (the client side; the server side is core/connection.ts). */
export class ClientConnection {
  #sock!: Socket | TLSSocket;
  #reader!: Connection;
  /** The first socket error, reported instead of a bare "closed". */
  #error: NetworkError | null = null;
  tls: TlsResult | null = null;
  /** The certificates the server presented after STARTTLS (DER, leaf first). */
  peerChain: Uint8Array[] = [];

  private constructor(sock: Socket) {
    this.#use(sock);
  }

  #use(sock: Socket | TLSSocket): void {
    this.#sock = sock;
    sock.on("error", (e: Error) => this.#error ??= new NetworkError(e.message));
    this.#reader = new Connection(new SocketTransport(sock), {
      tls: this.tls !== null,
      remoteAddress: sock.remoteAddress ?? "",
      remotePort: sock.remotePort ?? 0,
      localPort: sock.localPort ?? 0,
    });
  }

  /** Opens a TCP connection to ip:port within timeoutMs. */
  static connect(ip: string, port: number, timeoutMs: number): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host: ip, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new NetworkError(`connect to ${ip}:${port} timed out`));
      }, timeoutMs);
      sock.once("error", (e) => {
        clearTimeout(timer);
        reject(new NetworkError(`connect to ${ip}:${port}: ${e.message}`));
      });
      sock.once("connect", () => {
        clearTimeout(timer);
        sock.removeAllListeners("error");
        resolve(new ClientConnection(sock));
      });
    });
  }

  #failure(e: unknown, what: string): Error {
    if (e instanceof LineTooLongError) return new NetworkError("reply line too long");
    if (e instanceof TimeoutError) return new NetworkError(`timed out ${what}`);
    return this.#error ?? new NetworkError("connection closed by the server");
  }

  /**
   * Reads one line without its CRLF (a bare LF is accepted). A line longer than maxLen is a
   * NetworkError: a server that does that is broken. A line once begun must end in timeoutMs.
   */
  async readLine(maxLen: number, timeoutMs: number): Promise<string> {
    this.#reader.lineTimeoutMs = timeoutMs;
    try {
      return await this.#reader.readLineText(maxLen, timeoutMs);
    } catch (e) {
      throw this.#failure(e, "waiting for the server");
    }
  }

  /** Writes and waits until the bytes are handed on (or timeoutMs passes). */
  async write(data: string | Uint8Array, timeoutMs: number): Promise<void> {
    if (this.#error) throw this.#error;
    this.#reader.writeTimeoutMs = timeoutMs;
    try {
      await this.#reader.write(data);
    } catch (e) {
      throw this.#failure(e, "writing to the server");
    }
  }

  /**
   * RFC 3207: upgrades to TLS after the server's 220 to STARTTLS. Opportunistic (RFC 7435):
   * any certificate is accepted; whether it verified (against `ca`, default the bundled
   * roots, and the name) is recorded in `tls`, the chain in `peerChain` (policies decide:
   * core/outbound_security/).
   */
  upgradeTls(servername: string, timeoutMs: number, ca?: string[]): Promise<TlsResult> {
    const plain = this.#sock as Socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("end");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    return new Promise<TlsResult>((resolve, reject) => {
      const secure = tlsConnect({
        socket: plain,
        servername: /^[\d.]+$|:/.test(servername) ? undefined : servername,
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
        ...(ca ? { ca } : {}),
      });
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new NetworkError("TLS handshake timed out"));
      }, timeoutMs);
      secure.once("error", (e: Error) => {
        clearTimeout(timer);
        reject(new NetworkError(`TLS handshake: ${e.message}`));
      });
      secure.once("secureConnect", () => {
        clearTimeout(timer);
        secure.removeAllListeners("error");
        const authErr = secure.authorizationError;
        this.tls = {
          protocol: secure.getProtocol() ?? "",
          cipher: secure.getCipher()?.name ?? "",
          verified: secure.authorized === true,
          ...(secure.authorized ? {} : { verifyError: String(authErr ?? "unverified") }),
        };
        this.peerChain = presentedChain(secure);
        this.#use(secure);
        resolve(this.tls);
      });
    });
  }

  /** Closes the connection at once (no QUIT; see SmtpClient.quit). */
  close(): void {
    try {
      this.#sock.destroy();
    } catch { /* already closed */ }
  }
}

/** The peer's chain, leaf first (node links each certificate to its issuer; stops at loops). */
function presentedChain(secure: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<unknown>();
  // deno-lint-ignore no-explicit-any
  let c: any = secure.getPeerCertificate(true);
  while (c && c.raw && !seen.has(c) && out.length < 10) {
    seen.add(c);
    out.push(new Uint8Array(c.raw));
    if (c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return out;
}
