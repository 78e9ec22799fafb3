/**
 * The accept loop every protocol shares: plain or implicit-TLS listening, connection
 * limits in total and per IP, and handing each Connection to a protocol handler.
 *
 * A handler owns its connection until it returns; the listener closes it afterwards and
 * never lets a handler's exception reach the process.
 *
 * Limits are checked as soon as a connection is accepted, before any TLS work: an implicit-TLS
 * listener over its limit closes the socket at once (there is no plaintext to say "busy" in),
 * and a handshake has its own short deadline, so raw connections cannot pile up.
 *
 * @module
 */
import { Connection, normalizeAddress } from "./connection.ts";
import { TlsTransport } from "./transport.ts";
import type { HostPort } from "./config.ts";
import type { TlsProvider } from "./tls.ts";
import { log } from "../lib/log.ts";

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
  /** Deadlines given to each Connection (see core/connection.ts); defaults: none. */
  deadlines?: {
    lineTimeoutMs: number;
    minDataRate: number;
    tlsHandshakeTimeoutMs: number;
  };
}

/** At most one "refused" log line per listener per this many ms (a flood must not flood logs). */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/** A running listener. */
export class Listener {
  #listener: Deno.TcpListener;
  #open = new Set<Deno.Conn>();
  /** Sessions running (after any TLS handshake), told to say goodbye by stop(). */
  #sessions = new Set<Connection>();
  #stopGraceMs: number | null = null;
  #refusalLogAt = 0;
  #refusalsUnlogged = 0;
  #perIp = new Map<string, number>();
  #opts: ListenerOptions;
  #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;

  private constructor(listener: Deno.TcpListener, opts: ListenerOptions) {
    this.#listener = listener;
    this.#opts = opts;
    this.#acceptLoop = this.#accept();
  }

  /** Starts listening; resolves once bound (port 0 picks a free port). */
  static start(opts: ListenerOptions): Promise<Listener> {
    const listener = Deno.listen({
      hostname: opts.address.host,
      port: opts.address.port,
      transport: "tcp",
    });
    const l = new Listener(listener, opts);
    log.info(opts.name, `listening on ${l.addressText}`);
    return Promise.resolve(l);
  }

  /** The listener's name ("smtp", "imaps", ...). */
  get name(): string {
    return this.#opts.name;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.#listener.addr.port;
  }

  get addressText(): string {
    const a = this.#listener.addr;
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }

  get connectionCount(): number {
    return this.#open.size;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        // EMFILE and friends: log, breathe, keep accepting.
        log.error(this.#opts.name, `accept failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const task = this.#run(conn).finally(() => this.#tasks.delete(task));
      this.#tasks.add(task);
    }
  }

  async #run(raw: Deno.Conn): Promise<void> {
    const opts = this.#opts;
    const ip = normalizeAddress((raw.remoteAddr as Deno.NetAddr).hostname);
    this.#open.add(raw);
    const perIp = (this.#perIp.get(ip) ?? 0) + 1;
    this.#perIp.set(ip, perIp);
    try {
      (raw as Deno.TcpConn).setNoDelay?.(true);
    } catch { /* not a TCP socket */ }
    const over = this.#open.size > opts.maxConnections
      ? "total"
      : perIp > opts.maxConnectionsPerIp
      ? "per_ip"
      : null;
    const deadlines = opts.deadlines;
    let conn: Connection | null = null;
    try {
      if (over) this.#logRefusal(ip, over);
      if (opts.implicitTls) {
        // Over a limit: no handshake at all (it costs CPU and a socket for its deadline).
        if (over) return;
        const transport = await TlsTransport.accept(
          raw,
          opts.tls.context(),
          deadlines?.tlsHandshakeTimeoutMs,
        );
        conn = Connection.fromDenoConn(raw, transport);
      } else {
        conn = Connection.fromDenoConn(raw);
      }
      if (deadlines) {
        conn.lineTimeoutMs = deadlines.lineTimeoutMs;
        conn.minDataRate = deadlines.minDataRate;
        conn.tlsHandshakeTimeoutMs = deadlines.tlsHandshakeTimeoutMs;
      }
      if (over) {
        await opts.refuse(conn, over);
        return;
      }
      this.#sessions.add(conn);
      if (this.#stopGraceMs !== null) conn.shutdown(this.#stopGraceMs);
      await opts.handle(conn);
    } catch (e) {
      log.debug(opts.name, `session from ${ip} ended: ${(e as Error).message}`);
    } finally {
      if (conn) {
        this.#sessions.delete(conn);
        conn.close();
      } else {
        try {
          raw.close();
        } catch { /* already closed */ }
      }
      this.#open.delete(raw);
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(ip);
      else this.#perIp.set(ip, n);
    }
  }

  /** Logs a connection refused by a limit; during a flood, one line a second with a count. */
  #logRefusal(ip: string, reason: "total" | "per_ip"): void {
    const now = Date.now();
    if (now - this.#refusalLogAt < REFUSAL_LOG_INTERVAL_MS) {
      this.#refusalsUnlogged++;
      return;
    }
    const more = this.#refusalsUnlogged;
    this.#refusalLogAt = now;
    this.#refusalsUnlogged = 0;
    log.info(this.#opts.name, "connection refused: too many connections", {
      ip,
      limit: reason === "total" ? "max_connections" : "max_connections_per_ip",
      ...(more > 0 ? { also_refused: more } : {}),
    });
  }

  /**
   * Stops accepting and asks every session to end (Connection.shutdown): sessions waiting
   * for a command say goodbye at once, a command or transfer under way gets `graceMs` to
   * finish. Whatever is still open a moment after that is closed.
   */
  async stop(graceMs = 0): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#acceptLoop;
    this.#stopGraceMs = graceMs;
    for (const c of this.#sessions) c.shutdown(graceMs);
    if (this.#tasks.size > 0) {
      // The goodbye itself needs a moment after the grace period (one short write).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#tasks]),
        new Promise((r) => timer = setTimeout(r, graceMs + 250)),
      ]);
      clearTimeout(timer);
    }
    for (const c of this.#open) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await Promise.allSettled([...this.#tasks]);
  }
}
