/**
 * The client side of one SMTP connection: bounded CRLF line reads with timeouts, writes,
 * and a client-side STARTTLS upgrade (RFC 3207) that records what TLS gave us.
 *
 * node:net / node:tls sockets, because Deno.startTls cannot relax certificate checks per
 * connection, and opportunistic TLS (RFC 7435) must accept any certificate.
 *
 * Invariant: after `upgradeTls()` no byte received before the handshake is ever returned
 * (RFC 3207 §6: a server that pipelined plaintext after 220 is ignored).
 *
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { NetworkError } from "../../../core/queue/failure.ts";
import type { TlsResult } from "../../../core/queue/sender.ts";
import { concatBytes } from "../../../lib/bytes.ts";

const MAX_BUFFER = 1024 * 1024;

/** One TCP connection to a mail server (the client side; the server side is core/connection.ts). */
export class ClientConnection {
  #sock: Socket | TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  tls: TlsResult | null = null;

  private constructor(sock: Socket) {
    this.#sock = sock;
    this.#attach(sock);
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

  #attach(sock: Socket | TLSSocket): void {
    sock.on("data", (c: Uint8Array) => {
      this.#chunks.push(new Uint8Array(c));
      this.#buffered += c.length;
      if (this.#buffered > MAX_BUFFER) {
        this.#error ??= new NetworkError("server sent too much unread data");
        sock.destroy();
      }
      this.#notify();
    });
    sock.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on("error", (e: Error) => {
      this.#error ??= new NetworkError(e.message);
      this.#notify();
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Bytes received and not read yet. */
  get pendingInput(): number {
    return this.#buffered;
  }

  /**
   * Reads one line without its CRLF (a bare LF is accepted). A line longer than maxLen is a
   * NetworkError: a server that does that is broken.
   */
  async readLine(maxLen: number, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const joined = this.#joined();
      const lf = joined.indexOf(10);
      if (lf >= 0) {
        const end = lf > 0 && joined[lf - 1] === 13 ? lf - 1 : lf;
        if (end > maxLen) throw new NetworkError("reply line too long");
        const rest = joined.slice(lf + 1);
        this.#chunks = rest.length ? [rest] : [];
        this.#buffered = rest.length;
        return new TextDecoder().decode(joined.subarray(0, end));
      }
      if (joined.length > maxLen + 2) throw new NetworkError("reply line too long");
      if (this.#error) throw this.#error;
      if (this.#ended) throw new NetworkError("connection closed by the server");
      const left = deadline - Date.now();
      if (left <= 0) throw new NetworkError("timed out waiting for the server");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #joined(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = concatBytes(this.#chunks, this.#buffered);
    this.#chunks = out.length ? [out] : [];
    return out;
  }

  /** Writes and waits until the bytes are handed to the kernel (or timeoutMs passes). */
  write(data: string | Uint8Array, timeoutMs: number): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new NetworkError("timed out writing to the server")),
        timeoutMs,
      );
      this.#sock.write(data, (e?: Error | null) => {
        clearTimeout(timer);
        if (e) reject(new NetworkError(e.message));
        else resolve();
      });
    });
  }

  /**
   * RFC 3207: upgrades to TLS after the server's 220 to STARTTLS. Opportunistic (RFC 7435):
   * any certificate is accepted; whether it verified is recorded in `tls`.
   */
  upgradeTls(servername: string, timeoutMs: number): Promise<TlsResult> {
    const plain = this.#sock as Socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("end");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    this.#chunks = [];
    this.#buffered = 0;
    return new Promise<TlsResult>((resolve, reject) => {
      const secure = tlsConnect({
        socket: plain,
        servername: /^[\d.]+$|:/.test(servername) ? undefined : servername,
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
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
        this.#sock = secure;
        this.#attach(secure);
        const authErr = secure.authorizationError;
        this.tls = {
          protocol: secure.getProtocol() ?? "",
          cipher: secure.getCipher()?.name ?? "",
          verified: secure.authorized === true,
          ...(secure.authorized ? {} : { verifyError: String(authErr ?? "unverified") }),
        };
        resolve(this.tls);
      });
    });
  }

  /** Closes the connection (no QUIT; see SmtpClient.quit). */
  close(): void {
    try {
      this.#sock.destroy();
    } catch { /* already closed */ }
  }
}
