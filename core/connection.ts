/**
 * One client connection: bounded reads (lines, exact byte counts, SMTP DATA), writes with
 * back-pressure, and the server side of STARTTLS / STLS.
 *
 * Invariants:
 * - Memory held per connection is bounded: at most `HIGH_WATER` bytes of unread input
 *   (the socket is paused above it), plus what a caller explicitly asks to read.
 * - An over-long line is consumed and reported as LineTooLongError; it is never buffered whole.
 * - After `startTls()` no byte received before the TLS handshake is ever returned
 *   (RFC 3207 §4.2, RFC 2595 §3.1: pipelined plaintext after STARTTLS is discarded).
 *
 * Sockets are node:net / node:tls sockets because Deno has no server-side TLS upgrade of an
 * accepted connection; node:tls under Deno needs the plain socket paused before wrapping.
 *
 * @module
 */
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";

/** Unread input above this pauses the socket. */
const HIGH_WATER = 256 * 1024;

export class LineTooLongError extends Error {
  constructor() {
    super("line too long");
    this.name = "LineTooLongError";
  }
}

export class TimeoutError extends Error {
  constructor() {
    super("timed out");
    this.name = "TimeoutError";
  }
}

export class ConnectionClosedError extends Error {
  constructor() {
    super("connection closed");
    this.name = "ConnectionClosedError";
  }
}

/** Result of reading an SMTP DATA body. */
export interface DotDataResult {
  /** The unstuffed message, CRLF line endings; null when it exceeded maxBytes. */
  data: Uint8Array | null;
  /** Octets received (after unstuffing), also when too big. */
  size: number;
}

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class Connection {
  #sock: Socket | TLSSocket;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #paused = false;
  #closed = false;
  #tls: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;

  constructor(sock: Socket | TLSSocket, opts: { tls: boolean }) {
    this.#sock = sock;
    this.#tls = opts.tls;
    this.remoteAddress = normalizeAddress(sock.remoteAddress ?? "");
    this.remotePort = sock.remotePort ?? 0;
    this.localPort = sock.localPort ?? 0;
    this.#attach(sock);
  }

  /** True once the connection is encrypted. */
  get isTls(): boolean {
    return this.#tls;
  }

  /** True for 127.0.0.0/8 and ::1. */
  get isLoopback(): boolean {
    return isLoopbackAddress(this.remoteAddress);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet read (a pipelining client has sent more commands). */
  get pendingInput(): number {
    return this.#end - this.#start;
  }

  /** TLS protocol and cipher, when encrypted. */
  tlsInfo(): { protocol: string; cipher: string } | null {
    if (!(this.#sock instanceof TLSSocket)) return null;
    return {
      protocol: this.#sock.getProtocol() ?? "",
      cipher: this.#sock.getCipher()?.name ?? "",
    };
  }

  #attach(sock: Socket | TLSSocket): void {
    sock.on("data", (chunk: Uint8Array) => this.#push(chunk));
    sock.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on("error", (e: Error) => {
      this.#error ??= e;
      this.#notify();
    });
    sock.on("close", () => {
      this.#closed = true;
      this.#ended = true;
      this.#notify();
    });
  }

  #push(chunk: Uint8Array): void {
    const need = this.#end + chunk.length;
    if (need > this.#buf.length) {
      const live = this.#end - this.#start;
      if (live + chunk.length <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buf.length;
        while (size < live + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    if (this.#end - this.#start > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#sock.pause();
    }
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // Shrink a buffer grown by a large literal once it is drained.
      if (this.#buf.length > HIGH_WATER * 2) this.#buf = new Uint8Array(16 * 1024);
    }
    if (this.#paused && this.#end - this.#start < HIGH_WATER / 2) {
      this.#paused = false;
      this.#sock.resume();
    }
  }

  /** Waits for more input; throws on timeout, close or socket error. */
  async #more(timeoutMs: number): Promise<void> {
    if (this.#error) throw new ConnectionClosedError();
    if (this.#ended) throw new ConnectionClosedError();
    if (this.#paused) {
      this.#paused = false;
      this.#sock.resume();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#wake = resolve;
        if (timeoutMs > 0 && timeoutMs < Infinity) {
          timer = setTimeout(() => {
            this.#wake = null;
            reject(new TimeoutError());
          }, timeoutMs);
        }
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads one line (terminated by LF, with an optional CR before it) and returns it without
   * the line ending. A line longer than maxLen is consumed and LineTooLongError thrown.
   */
  async readLine(maxLen: number, timeoutMs: number): Promise<Uint8Array> {
    let scanned = 0;
    let discarding = false;
    for (;;) {
      const view = this.#buf.subarray(this.#start + scanned, this.#end);
      const i = view.indexOf(LF);
      if (i >= 0) {
        const lineEnd = scanned + i; // index of LF relative to #start
        if (discarding) {
          this.#consume(lineEnd + 1);
          throw new LineTooLongError();
        }
        let contentEnd = lineEnd;
        if (contentEnd > 0 && this.#buf[this.#start + contentEnd - 1] === CR) contentEnd--;
        if (contentEnd > maxLen) {
          this.#consume(lineEnd + 1);
          throw new LineTooLongError();
        }
        const line = this.#buf.slice(this.#start, this.#start + contentEnd);
        this.#consume(lineEnd + 1);
        return line;
      }
      scanned = this.#end - this.#start;
      if (scanned > maxLen + 1) {
        // Drop what we have: the line is too long anyway, and must not grow memory.
        discarding = true;
        this.#consume(scanned);
        scanned = 0;
      }
      await this.#more(timeoutMs);
    }
  }

  /** readLine decoded as UTF-8 (invalid sequences become U+FFFD). */
  async readLineText(maxLen: number, timeoutMs: number): Promise<string> {
    return decoder.decode(await this.readLine(maxLen, timeoutMs));
  }

  /** Reads exactly n bytes (an IMAP literal, a BDAT chunk). */
  async readBytes(n: number, timeoutMs: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) await this.#more(timeoutMs);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#consume(n);
    return out;
  }

  /** Reads and drops exactly n bytes (a refused literal or chunk), in bounded memory. */
  async skipBytes(n: number, timeoutMs: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#end === this.#start) await this.#more(timeoutMs);
      const take = Math.min(left, this.#end - this.#start);
      this.#consume(take);
      left -= take;
    }
  }

  /**
   * Reads an SMTP DATA body up to the terminating <CRLF>.<CRLF> (RFC 5321 §4.1.1.4),
   * removing dot-stuffing (§4.5.2). Bare LF line endings are stored as CRLF, but only a "."
   * line ended by CRLF after a CRLF ends the data (no SMTP smuggling through bare LFs).
   */
  async readDotData(maxBytes: number, timeoutMs: number): Promise<DotDataResult> {
    const parts: Uint8Array[] = [];
    let size = 0;
    let tooBig = false;
    let prevCrlf = true; // start of DATA counts as after a CRLF
    for (;;) {
      const view = this.#buf.subarray(this.#start, this.#end);
      const i = view.indexOf(LF);
      if (i < 0) {
        // Flush long partial lines so memory stays bounded; keep a short tail to recheck.
        if (view.length > 64 * 1024) {
          const take = view.length - 2;
          const piece = view.subarray(0, take);
          const unstuffed = prevCrlf && piece[0] === DOT ? piece.subarray(1) : piece;
          size += unstuffed.length;
          if (size > maxBytes) tooBig = true;
          if (!tooBig) parts.push(unstuffed.slice());
          this.#consume(take);
          prevCrlf = false;
          continue;
        }
        await this.#more(timeoutMs);
        continue;
      }
      const hasCr = i > 0 && view[i - 1] === CR;
      const contentLen = hasCr ? i - 1 : i;
      if (contentLen === 1 && view[0] === DOT && hasCr && prevCrlf) {
        this.#consume(i + 1);
        break;
      }
      let line = view.subarray(0, contentLen);
      if (prevCrlf && line.length > 0 && line[0] === DOT) line = line.subarray(1);
      size += line.length + 2;
      if (size > maxBytes) tooBig = true;
      if (!tooBig) {
        const out = new Uint8Array(line.length + 2);
        out.set(line);
        out[line.length] = CR;
        out[line.length + 1] = LF;
        parts.push(out);
      }
      prevCrlf = hasCr;
      this.#consume(i + 1);
    }
    if (tooBig) return { data: null, size };
    return { data: concat(parts, size), size };
  }

  /** Writes, waiting for the socket to drain when its buffer is full. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#closed || this.#sock.destroyed) throw new ConnectionClosedError();
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!this.#sock.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#sock.off("drain", done);
          this.#sock.off("close", done);
          resolve();
        };
        this.#sock.on("drain", done);
        this.#sock.on("close", done);
      });
    }
  }

  /**
   * Upgrades to TLS as the server. Unread plaintext is discarded first (RFC 3207 §4.2).
   * Resolves when the handshake completes; throws when it fails or times out.
   */
  async startTls(context: SecureContext, timeoutMs = 30_000): Promise<void> {
    const plain = this.#sock;
    plain.removeAllListeners("data");
    plain.removeAllListeners("end");
    plain.removeAllListeners("error");
    plain.removeAllListeners("close");
    plain.pause();
    this.#start = 0;
    this.#end = 0;
    this.#paused = false;
    const secure = new TLSSocket(plain as Socket, { isServer: true, secureContext: context });
    this.#sock = secure;
    this.#attach(secure);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new TimeoutError());
      }, timeoutMs);
      secure.once("secure", () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      secure.once("close", () => {
        clearTimeout(timer);
        reject(new ConnectionClosedError());
      });
      plain.resume();
    });
    this.#tls = true;
  }

  /** Sends what is buffered, then closes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.end();
    // A client that never reads must not keep the socket open forever.
    const s = this.#sock;
    setTimeout(() => s.destroy(), 5000).unref?.();
  }

  /** Closes at once, dropping buffered output. */
  destroy(): void {
    this.#closed = true;
    this.#sock.destroy();
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** "::ffff:1.2.3.4" -> "1.2.3.4". */
export function normalizeAddress(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

export function isLoopbackAddress(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.");
}
