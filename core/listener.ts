/**
 * The accept loop every protocol shares: plain or implicit-TLS listening, connection
 * limits in total and per IP, and handing each Connection to a protocol handler.
 *
 * A handler owns its connection until it returns; the listener closes it afterwards and
 * never lets a handler's exception reach the process.
 *
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { Connection, normalizeAddress } from "./connection.ts";
import type { HostPort } from "./config.ts";
import type { TlsProvider } from "./tls.ts";
import { log } from "./log.ts";

export interface ListenerOptions {
  /** Used in logs ("smtp", "imaps", ...). */
  name: string;
  address: HostPort;
  /** Implicit TLS (465, 993, 995): handshake before the handler runs. */
  implicitTls: boolean;
  tls: TlsProvider;
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Runs the protocol on an accepted connection. */
  handle(conn: Connection): Promise<void>;
  /** Called instead of handle() when a limit is hit: say "busy" in the protocol's words. */
  refuse(conn: Connection, reason: "total" | "per_ip"): Promise<void>;
}

/** A running listener. */
export class Listener {
  #server: Server;
  #open = new Set<Socket>();
  #perIp = new Map<string, number>();
  #opts: ListenerOptions;
  #tasks = new Set<Promise<void>>();

  private constructor(server: Server, opts: ListenerOptions) {
    this.#server = server;
    this.#opts = opts;
  }

  /** Starts listening; resolves once bound (port 0 picks a free port). */
  static async start(opts: ListenerOptions): Promise<Listener> {
    const server = createServer({ pauseOnConnect: true, noDelay: true });
    const l = new Listener(server, opts);
    server.on("connection", (sock: Socket) => l.#accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: opts.address.host, port: opts.address.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => log.error(opts.name, `listener error: ${e.message}`));
    log.info(opts.name, `listening on ${l.addressText}`);
    return l;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.#server.address();
    return typeof a === "object" && a ? a.port : 0;
  }

  get addressText(): string {
    const a = this.#server.address();
    if (typeof a === "object" && a) {
      return a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    }
    return String(a);
  }

  get connectionCount(): number {
    return this.#open.size;
  }

  #accept(sock: Socket): void {
    const ip = normalizeAddress(sock.remoteAddress ?? "");
    this.#open.add(sock);
    const perIp = (this.#perIp.get(ip) ?? 0) + 1;
    this.#perIp.set(ip, perIp);
    sock.once("close", () => {
      this.#open.delete(sock);
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(ip);
      else this.#perIp.set(ip, n);
    });
    sock.on("error", () => {}); // reported through Connection; never crash the process
    const task = this.#run(sock, ip, perIp).finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  async #run(sock: Socket, ip: string, perIp: number): Promise<void> {
    const opts = this.#opts;
    let conn: Connection;
    try {
      if (opts.implicitTls) {
        conn = await handshake(sock, opts.tls);
      } else {
        conn = new Connection(sock, { tls: false });
        sock.resume();
      }
    } catch (e) {
      log.debug(opts.name, `TLS handshake failed from ${ip}: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    try {
      if (this.#open.size > opts.maxConnections) {
        await opts.refuse(conn, "total");
      } else if (perIp > opts.maxConnectionsPerIp) {
        await opts.refuse(conn, "per_ip");
      } else {
        await opts.handle(conn);
      }
    } catch (e) {
      log.debug(opts.name, `session from ${ip} ended: ${(e as Error).message}`);
    } finally {
      conn.close();
    }
  }

  /** Stops accepting; open sessions are ended after `graceMs`. */
  async stop(graceMs = 0): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (graceMs > 0 && this.#tasks.size > 0) {
      await Promise.race([
        Promise.allSettled([...this.#tasks]),
        new Promise((r) => setTimeout(r, graceMs)),
      ]);
    }
    for (const s of this.#open) s.destroy();
    await Promise.allSettled([...this.#tasks]);
  }
}

function handshake(sock: Socket, tls: TlsProvider, timeoutMs = 30_000): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(sock, { isServer: true, secureContext: tls.context() });
    const conn = new Connection(secure, { tls: true });
    const timer = setTimeout(() => reject(new Error("handshake timeout")), timeoutMs);
    secure.once("secure", () => {
      clearTimeout(timer);
      resolve(conn);
    });
    secure.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.resume();
  });
}
