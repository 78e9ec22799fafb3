/**
 * Byte transports under a Connection: pull-based `read(into)` and awaited `write`.
 *
 * Plain TCP uses Deno's native sockets (measured here: about 2.3x the accept-and-talk rate
 * of node:net under Deno). TLS uses node:tls over a Duplex adapter of the same Deno socket,
 * because Deno cannot upgrade an accepted connection to TLS as a server (STARTTLS, STLS).
 *
 * Reads are pull-based: nothing reads from the socket unless the protocol is waiting for
 * input, so at a STARTTLS no byte of the client's TLS handshake can be consumed as plaintext.
 *
 * @module
 */
import { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";

/** What a Connection reads from and writes to. */
export interface Transport {
  /** Reads into `into`; resolves with the count, or null at end of stream. */
  read(into: Uint8Array): Promise<number | null>;
  /** Resolves once all bytes are handed to the OS (or the TLS layer). */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes and closes. */
  close(): void;
  /** TLS details when encrypted. */
  tlsInfo(): { protocol: string; cipher: string } | null;
}

/** A native Deno TCP connection. */
export class DenoTransport implements Transport {
  constructor(readonly conn: Deno.Conn) {}

  read(into: Uint8Array): Promise<number | null> {
    return this.conn.read(into);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  tlsInfo(): null {
    return null;
  }
}

/** Presents a Deno.Conn as a node Duplex so that node:tls can run on top of it. */
class ConnDuplex extends Duplex {
  #conn: Deno.Conn;
  #chunk = new Uint8Array(16 * 1024);

  constructor(conn: Deno.Conn) {
    super();
    this.#conn = conn;
  }

  override _read(): void {
    this.#conn.read(this.#chunk).then(
      (n) => {
        if (n === null) this.push(null);
        else {
          const out = this.#chunk.slice(0, n);
          this.push(out);
        }
      },
      (e) => this.destroy(e),
    );
  }

  override _write(chunk: Uint8Array, _enc: string, cb: (e?: Error | null) => void): void {
    (async () => {
      let off = 0;
      while (off < chunk.length) off += await this.#conn.write(chunk.subarray(off));
    })().then(() => cb(), (e) => cb(e));
  }

  override _final(cb: () => void): void {
    try {
      this.#conn.closeWrite();
    } catch { /* already closed */ }
    cb();
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    cb(err);
  }
}

/**
 * Chunks pushed by an event source (a node stream) and read pull-style, for transports
 * whose bytes arrive by events (TLS, inflate). `onLow` runs when a read drains the queue
 * below 64 KiB, so the producer can resume.
 */
export class ChunkQueue {
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(private onLow: () => void = () => {}) {}

  /** Bytes waiting to be read. */
  get size(): number {
    return this.#queued;
  }

  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(e: Error): void {
    this.#error ??= e;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    let n = 0;
    while (this.#queue.length > 0 && n < into.length) {
      const head = this.#queue[0];
      const take = Math.min(head.length, into.length - n);
      into.set(head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(take);
    }
    this.#queued -= n;
    if (this.#queued < 64 * 1024) this.onLow();
    return n;
  }
}

/**
 * A node:net or node:tls socket read pull-style, with socket pause/resume as back-pressure
 * (at most 256 KiB waits unread). Under TlsTransport, and under the outbound SMTP client.
 */
export class SocketTransport implements Transport {
  protected readonly sock: Socket;
  #input: ChunkQueue;

  constructor(sock: Socket) {
    this.sock = sock;
    this.#input = new ChunkQueue(() => sock.isPaused() && sock.resume());
    sock.on("data", (chunk: Uint8Array) => {
      this.#input.push(chunk);
      if (this.#input.size > 256 * 1024) sock.pause();
    });
    sock.on("end", () => this.#input.end());
    sock.on("close", () => this.#input.end());
    sock.on("error", (e: Error) => this.#input.fail(e));
  }

  read(into: Uint8Array): Promise<number | null> {
    return this.#input.read(into);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.sock.destroyed) throw new Error("connection closed");
    if (this.sock.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.sock.off("drain", done);
        this.sock.off("close", done);
        resolve();
      };
      this.sock.on("drain", done);
      this.sock.on("close", done);
    });
  }

  close(): void {
    this.sock.end();
    const s = this.sock;
    // A peer that never completes the close must not keep the socket forever.
    const timer = setTimeout(() => s.destroy(), 5000);
    Deno.unrefTimer(timer as unknown as number);
  }

  tlsInfo(): { protocol: string; cipher: string } | null {
    const s = this.sock;
    return s instanceof TLSSocket
      ? { protocol: s.getProtocol() ?? "", cipher: s.getCipher()?.name ?? "" }
      : null;
  }
}

/** Bytes decrypted by node:tls (the server side of TLS on an accepted Deno connection). */
export class TlsTransport extends SocketTransport {
  private constructor(sock: TLSSocket) {
    super(sock);
  }

  /** Runs the server side of a TLS handshake on a Deno connection. */
  static async accept(
    conn: Deno.Conn,
    context: SecureContext,
    timeoutMs = 30_000,
  ): Promise<TlsTransport> {
    const sock = new TLSSocket(new ConnDuplex(conn) as unknown as Socket, {
      isServer: true,
      secureContext: context,
    });
    const t = new TlsTransport(sock);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error("TLS handshake timed out"));
      }, timeoutMs);
      const fail = (e?: Error) => {
        clearTimeout(timer);
        sock.destroy();
        reject(e ?? new Error("connection closed during the TLS handshake"));
      };
      sock.once("secure", () => {
        clearTimeout(timer);
        sock.off("error", fail);
        sock.off("close", fail);
        resolve();
      });
      sock.once("error", fail);
      sock.once("close", () => fail());
    });
    return t;
  }
}
