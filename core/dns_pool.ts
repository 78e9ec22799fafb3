/**
 * A small pool of UDP sockets shared by every query to one nameserver (issue 13, item 13:
 * a socket per query let 50,000 concurrent lookups hold 15,000 file handles).
 *
 * At most `size` sockets are open; queries share them, matched by their 16-bit id, which
 * is random and unique among the socket's queries in flight. RFC 5452 §9.2 wants the source
 * port unpredictable too, so a socket takes at most `maxUses` queries and is then replaced,
 * and a socket closes as soon as it has no query in flight (an idle server holds no socket).
 * Answers are accepted only from the server's port (RFC 5452 §4.5: match the address and
 * port the query went to).
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import type { HostPort } from "./config.ts";
import { decodeResponse, type DnsResponse } from "./dns_wire.ts";

interface Pending {
  resolve(r: DnsResponse): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  resend: ReturnType<typeof setInterval>;
}

interface PooledSocket {
  sock: Socket;
  pending: Map<number, Pending>;
  uses: number;
  closed: boolean;
}

/** Sockets open at once per nameserver. */
export const POOL_SIZE = 4;
/** Queries one socket carries before it is replaced (a fresh source port). */
export const MAX_USES = 256;

/** The UDP sockets to one nameserver. */
export class UdpPool {
  #sockets: PooledSocket[] = [];

  constructor(
    readonly server: HostPort,
    readonly size = POOL_SIZE,
    readonly maxUses = MAX_USES,
  ) {}

  /** Sockets open now (for tests and measurements). */
  get open(): number {
    return this.#sockets.length;
  }

  /**
   * Sends the query `encode(id)` and resolves with the answer carrying that id; rejects at
   * `deadline` (ms since the epoch). The datagram is sent again every `resendMs` (UDP may
   * lose it). Returns the query bytes too (a truncated answer is retried over TCP).
   */
  exchange(
    encode: (id: number) => Uint8Array,
    deadline: number,
    resendMs: number,
  ): Promise<{ response: DnsResponse; query: Uint8Array; id: number }> {
    let s: PooledSocket;
    try {
      s = this.#pick();
    } catch (e) {
      return Promise.reject(e);
    }
    const id = freeId(s.pending);
    let query: Uint8Array;
    try {
      query = encode(id);
    } catch (e) {
      this.#release(s);
      return Promise.reject(e);
    }
    s.uses++;
    return new Promise((resolve, reject) => {
      const send = () =>
        s.sock.send(query, this.server.port, this.server.host, (e) => e && this.#fail(s, id, e));
      const p: Pending = {
        resolve: (response) => resolve({ response, query, id }),
        reject,
        timer: setTimeout(
          () => this.#fail(s, id, new Error("DNS timeout")),
          Math.max(1, deadline - Date.now()),
        ),
        resend: setInterval(send, resendMs),
      };
      s.pending.set(id, p);
      send();
    });
  }

  /** A socket with room: the least busy open one, or a new one while under `size`. */
  #pick(): PooledSocket {
    let best: PooledSocket | null = null;
    for (const s of this.#sockets) {
      if (s.uses >= this.maxUses || s.pending.size >= 60_000) continue;
      if (!best || s.pending.size < best.pending.size) best = s;
    }
    if (best && (best.pending.size === 0 || this.#sockets.length >= this.size)) return best;
    if (this.#sockets.length >= this.size) {
      // Every socket is worn out and still busy: the oldest takes more (rare, bounded).
      best = this.#sockets.reduce((a, b) => a.pending.size <= b.pending.size ? a : b);
      if (best.pending.size >= 60_000) throw new Error("DNS: too many queries in flight");
      return best;
    }
    const sock = createSocket(this.server.host.includes(":") ? "udp6" : "udp4");
    const s: PooledSocket = { sock, pending: new Map(), uses: 0, closed: false };
    sock.on("error", (e: Error) => {
      for (const id of [...s.pending.keys()]) this.#fail(s, id, e);
      this.#close(s);
    });
    sock.on("message", (msg: Uint8Array, rinfo: { port: number }) => {
      if (rinfo.port !== this.server.port) return; // not from the server we asked
      let res: DnsResponse;
      try {
        res = decodeResponse(new Uint8Array(msg));
      } catch {
        return; // malformed: keep waiting
      }
      const p = s.pending.get(res.id);
      if (!p) return; // a stray or late answer
      this.#done(s, res.id, p);
      p.resolve(res);
    });
    this.#sockets.push(s);
    return s;
  }

  #fail(s: PooledSocket, id: number, e: Error): void {
    const p = s.pending.get(id);
    if (!p) return;
    this.#done(s, id, p);
    p.reject(e);
  }

  #done(s: PooledSocket, id: number, p: Pending): void {
    clearTimeout(p.timer);
    clearInterval(p.resend);
    s.pending.delete(id);
    this.#release(s);
  }

  /** Closes a socket with nothing in flight: no idle socket stays open. */
  #release(s: PooledSocket): void {
    if (s.pending.size === 0) this.#close(s);
  }

  #close(s: PooledSocket): void {
    if (s.closed) return;
    s.closed = true;
    this.#sockets = this.#sockets.filter((x) => x !== s);
    try {
      s.sock.close();
    } catch { /* already closed */ }
  }
}

/** A random id not in use on this socket (RFC 5452 §9.1: unpredictable ids). */
function freeId(inUse: Map<number, unknown>): number {
  const buf = new Uint16Array(1);
  for (;;) {
    const id = crypto.getRandomValues(buf)[0];
    if (!inUse.has(id)) return id;
  }
}
