/**
 * One client connection: bounded reads (lines, exact byte counts, SMTP DATA), writes with
 * back-pressure, and the server side of STARTTLS / STLS.
 *
 * Invariants:
 * - Memory held per connection is bounded: input is read only when a caller waits for it
 *   (pull-based), at most 64 KiB at a time, plus what a caller explicitly asks to read.
 * - An over-long line is consumed and reported as LineTooLongError; it is never buffered whole.
 * - After `startTls()` no byte received before the TLS handshake is ever returned
 *   (RFC 3207 §4.2, RFC 2595 §3.1: pipelined plaintext after STARTTLS is discarded).
 * - Time is bounded per read (`timeoutMs` of each call: the idle wait) and per unit of work:
 *   once a line has begun it must end within `lineTimeoutMs`, and byte transfers (literals,
 *   chunks, DATA) must keep up `minDataRate` with `lineTimeoutMs` of slack — else
 *   DeadlineError. A client dribbling a byte every few seconds cannot hold a session.
 * - `shutdown()` ends waits for a new command at once (ShutdownError, so the protocol can
 *   say goodbye) and lets a line or transfer under way run until the grace period ends.
 *
 * Bytes come from a Transport (core/transport.ts): native Deno TCP, or node:tls over it once
 * encrypted; IMAP COMPRESS=DEFLATE (RFC 4978) puts a DEFLATE layer on top (`startCompression`).
 *
 * @module
 */
import type { SecureContext } from "node:tls";
import { constants as zlibConstants, createDeflateRaw, createInflateRaw } from "node:zlib";
import { ChunkQueue, DenoTransport, TlsTransport, type Transport } from "./transport.ts";
import { concatBytes } from "../lib/bytes.ts";

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

/** A line or transfer took longer than its deadline (slow client): a TimeoutError too. */
export class DeadlineError extends TimeoutError {
  constructor() {
    super();
    this.message = "client too slow";
    this.name = "DeadlineError";
  }
}

/** The server is shutting down: say goodbye in the protocol's words and end the session. */
export class ShutdownError extends Error {
  constructor() {
    super("server shutting down");
    this.name = "ShutdownError";
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
  #transport: Transport;
  #buf = new Uint8Array(4 * 1024);
  #start = 0;
  #end = 0;
  #ended = false;
  /** A read still in flight (a read that timed out keeps running; the next wait reuses it). */
  #pending: Promise<number | null> | null = null;
  #closed = false;
  #tls: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** How long one write may wait for a client that does not read; then the connection closes. */
  writeTimeoutMs = 10 * 60_000;
  /** A line, once its first byte is here, must be complete within this (limits.command_line_timeout). */
  lineTimeoutMs = Infinity;
  /** Octets per second a transfer must keep up after `lineTimeoutMs` of slack; 0: no floor. */
  minDataRate = 0;
  /** STARTTLS / STLS handshake deadline (limits.tls_handshake_timeout). */
  tlsHandshakeTimeoutMs = 30_000;
  /** Set by shutdown(): the time after which no read may wait any more. */
  #stopAt: number | null = null;
  #stopWake = Promise.withResolvers<"stop">();

  constructor(
    transport: Transport,
    opts: { tls: boolean; remoteAddress: string; remotePort: number; localPort: number },
  ) {
    this.#transport = transport;
    this.#tls = opts.tls;
    this.remoteAddress = normalizeAddress(opts.remoteAddress);
    this.remotePort = opts.remotePort;
    this.localPort = opts.localPort;
  }

  /** A Connection over an accepted Deno TCP connection. */
  static fromDenoConn(conn: Deno.Conn, transport?: Transport): Connection {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const local = conn.localAddr as Deno.NetAddr;
    return new Connection(transport ?? new DenoTransport(conn), {
      tls: transport !== undefined && transport.tlsInfo() !== null,
      remoteAddress: remote.hostname,
      remotePort: remote.port,
      localPort: local.port,
    });
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
    return this.#transport.tlsInfo();
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      // Give back a buffer grown by a large literal once it is drained.
      if (this.#buf.length > 256 * 1024 && !this.#pending) this.#buf = new Uint8Array(4 * 1024);
    }
  }

  /** Makes room for at least `min` more bytes at #end (no read may be in flight). */
  #reserve(min: number): void {
    if (this.#buf.length - this.#end >= min) return;
    const live = this.#end - this.#start;
    if (this.#start > 0 && this.#buf.length - live >= min) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let size = this.#buf.length * 2;
      while (size - live < min) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#end = live;
    this.#start = 0;
  }

  /**
   * Asks the session to end: a wait for a new command ends at once with ShutdownError; a
   * line or transfer under way may go on for `graceMs`, then ends with ShutdownError too.
   */
  shutdown(graceMs: number): void {
    if (this.#stopAt !== null) return;
    this.#stopAt = Date.now() + graceMs;
    this.#stopWake.resolve("stop");
  }

  /** True once shutdown() was called. */
  get shuttingDown(): boolean {
    return this.#stopAt !== null;
  }

  /**
   * Reads more input into the buffer. Throws TimeoutError when nothing came for `timeoutMs`,
   * DeadlineError at the absolute time `deadline`, ShutdownError after shutdown() (at once
   * when `idle`, else when the grace period ends), ConnectionClosedError on close or error.
   */
  async #more(timeoutMs: number, deadline = Infinity, idle = false, want = 0): Promise<void> {
    if (this.#ended || this.#closed) throw new ConnectionClosedError();
    if (!this.#pending) {
      // Grow reads with demand: small for command lines, up to 64 KiB for message data.
      const live = this.#end - this.#start;
      this.#reserve(Math.min(64 * 1024, Math.max(4 * 1024, live, want)));
      const into = this.#buf.subarray(this.#end, this.#end + 64 * 1024);
      this.#pending = this.#transport.read(into);
    }
    const pending = this.#pending;
    const readUntil = timeoutMs > 0 && timeoutMs < Infinity ? Date.now() + timeoutMs : Infinity;
    let n: number | null;
    for (;;) {
      const stopAt = this.#stopAt;
      if (stopAt !== null && (idle || Date.now() >= stopAt)) throw new ShutdownError();
      const until = Math.min(readUntil, deadline, stopAt ?? Infinity);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let outcome: { n: number | null } | "timer" | "stop";
      try {
        const racers: Promise<{ n: number | null } | "timer" | "stop">[] = [
          pending.then((n) => ({ n })),
        ];
        if (until < Infinity) {
          racers.push(
            new Promise((r) => timer = setTimeout(() => r("timer"), until - Date.now())),
          );
        }
        if (stopAt === null) racers.push(this.#stopWake.promise);
        outcome = await Promise.race(racers);
      } catch {
        this.#pending = null;
        this.#ended = true;
        throw new ConnectionClosedError();
      } finally {
        clearTimeout(timer);
      }
      if (outcome === "stop") continue;
      if (outcome === "timer") {
        if (stopAt !== null && until === stopAt) continue; // the check above throws
        if (until === deadline && deadline < readUntil) throw new DeadlineError();
        throw new TimeoutError();
      }
      n = outcome.n;
      break;
    }
    this.#pending = null;
    if (n === null) {
      this.#ended = true;
      throw new ConnectionClosedError();
    }
    this.#end += n;
  }

  /**
   * The deadline of a transfer that began at `start` and has moved `done` octets so far:
   * `lineTimeoutMs` of slack plus the time `done` octets take at `minDataRate`.
   */
  #transferDeadline(start: number, done: number): number {
    if (this.minDataRate <= 0 || this.lineTimeoutMs === Infinity) return Infinity;
    return start + this.lineTimeoutMs + (done * 1000) / this.minDataRate;
  }

  /**
   * Reads one line (terminated by LF, with an optional CR before it) and returns it without
   * the line ending. A line longer than maxLen is consumed and LineTooLongError thrown.
   */
  async readLine(maxLen: number, timeoutMs: number): Promise<Uint8Array> {
    let scanned = 0;
    let discarding = false;
    let deadline = Infinity;
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
      // The line has begun once a byte of it is here: from then on it has a deadline,
      // and a shutdown no longer interrupts it at once.
      const begun = discarding || this.#end > this.#start;
      if (begun && deadline === Infinity) deadline = Date.now() + this.lineTimeoutMs;
      await this.#more(timeoutMs, deadline, !begun);
    }
  }

  /** readLine decoded as UTF-8 (invalid sequences become U+FFFD). */
  async readLineText(maxLen: number, timeoutMs: number): Promise<string> {
    return decoder.decode(await this.readLine(maxLen, timeoutMs));
  }

  /** Reads exactly n bytes (an IMAP literal, a BDAT chunk). */
  async readBytes(n: number, timeoutMs: number): Promise<Uint8Array> {
    // Filled piece by piece, so a large literal costs its own size once, not a grown
    // read buffer plus a copy.
    const out = new Uint8Array(n);
    const start = Date.now();
    let got = 0;
    while (got < n) {
      if (this.#end === this.#start) {
        await this.#more(timeoutMs, this.#transferDeadline(start, got), false, n - got);
      }
      const take = Math.min(n - got, this.#end - this.#start);
      out.set(this.#buf.subarray(this.#start, this.#start + take), got);
      this.#consume(take);
      got += take;
    }
    return out;
  }

  /** Reads and drops exactly n bytes (a refused literal or chunk), in bounded memory. */
  async skipBytes(n: number, timeoutMs: number): Promise<void> {
    let left = n;
    const start = Date.now();
    while (left > 0) {
      if (this.#end === this.#start) {
        await this.#more(timeoutMs, this.#transferDeadline(start, n - left), false, left);
      }
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
    const out = new ByteSink(maxBytes);
    const start = Date.now();
    let prevCrlf = true; // the start of DATA counts as after a CRLF
    for (;;) {
      // Complete lines in the buffer; runs of ordinary CRLF lines are copied in one piece.
      const view = this.#buf.subarray(0, this.#end);
      let p = this.#start;
      let span = p;
      let done = false;
      for (;;) {
        const i = view.indexOf(LF, p);
        if (i < 0) break;
        const hasCr = i > p && view[i - 1] === CR;
        const contentEnd = hasCr ? i - 1 : i;
        const stuffed = prevCrlf && contentEnd > p && view[p] === DOT;
        if (stuffed && hasCr && contentEnd - p === 1) {
          out.append(view, span, p);
          span = p = i + 1;
          done = true;
          break;
        }
        if (stuffed || !hasCr) {
          out.append(view, span, p);
          out.append(view, stuffed ? p + 1 : p, contentEnd);
          out.appendCrlf();
          span = i + 1;
        }
        prevCrlf = hasCr;
        p = i + 1;
      }
      out.append(view, span, p);
      this.#consume(p - this.#start);
      if (done) break;
      // A very long line without LF: pass it on in pieces so memory stays bounded; keep a
      // short tail so a CR LF split across reads is still seen.
      const pending = this.#end - this.#start;
      if (pending > 64 * 1024) {
        let from = this.#start;
        if (prevCrlf && this.#buf[from] === DOT) from++;
        const upto = this.#end - 2;
        out.append(this.#buf, from, upto);
        this.#consume(upto - this.#start);
        prevCrlf = false;
        continue;
      }
      await this.#more(timeoutMs, this.#transferDeadline(start, out.size));
    }
    return out.result();
  }

  /** Writes everything, waiting while the peer is slow to read. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#transport.write(bytes),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError()), this.writeTimeoutMs);
        }),
      ]);
    } catch (e) {
      this.#closed = true;
      if (e instanceof TimeoutError) {
        // A client that stopped reading must not hold its session (and locks) forever.
        this.#transport.close();
        throw e;
      }
      throw new ConnectionClosedError();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Upgrades to TLS as the server. Unread plaintext is discarded first (RFC 3207 §4.2).
   * Resolves when the handshake completes; throws when it fails or times out.
   */
  async startTls(context: SecureContext, timeoutMs = this.tlsHandshakeTimeoutMs): Promise<void> {
    const raw = this.#transport;
    if (!(raw instanceof DenoTransport) || this.#pending) {
      throw new Error("STARTTLS needs an idle plain connection");
    }
    this.#start = 0;
    this.#end = 0;
    try {
      this.#transport = await TlsTransport.accept(raw.conn, context, timeoutMs);
    } catch (e) {
      this.#closed = true;
      throw e;
    }
    this.#tls = true;
  }

  /** True once `startCompression()` ran. */
  get isCompressed(): boolean {
    return this.#transport instanceof DeflateTransport;
  }

  /**
   * RFC 4978 COMPRESS=DEFLATE: from now on both directions are raw DEFLATE (RFC 1951), and
   * every write ends with a sync flush so the peer can decode it at once. Call it right after
   * writing the last uncompressed reply, with no read in flight; input already buffered is
   * the start of the compressed stream.
   */
  startCompression(): void {
    if (this.#transport instanceof DeflateTransport) throw new Error("already compressed");
    if (this.#pending) throw new Error("COMPRESS needs an idle connection");
    const early = this.#buf.slice(this.#start, this.#end);
    this.#start = 0;
    this.#end = 0;
    this.#transport = new DeflateTransport(this.#transport, early);
  }

  /** Sends what is buffered, then closes. */
  close(): void {
    if (this.#closed && this.#ended) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    this.#transport.close();
  }

  /** Closes at once. */
  destroy(): void {
    this.close();
  }
}

/**
 * Raw DEFLATE (RFC 1951) over another transport, for RFC 4978. Input is inflated by a pump
 * that reads the inner transport in small pieces and stops while much inflated data waits
 * unread, so a "zip bomb" costs at most one piece's expansion (4 KiB in, ~4 MiB out) above
 * the queue limit. Writes are deflated in order, each followed by Z_SYNC_FLUSH.
 */
class DeflateTransport implements Transport {
  readonly #inner: Transport;
  readonly #inflate = createInflateRaw({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
  /**
   * A 4 KiB window and memLevel 6 keep the compressor near 48 KiB per connection instead of
   * zlib's default 256 KiB (many idle IMAP connections); any inflater with a larger window
   * (RFC 4978 clients use 32 KiB) reads the stream.
   */
  readonly #deflate = createDeflateRaw({ windowBits: 12, memLevel: 6 });
  #input = new ChunkQueue(() => {
    this.#resumePump?.();
    this.#resumePump = null;
  });
  #error: Error | null = null;
  #resumePump: (() => void) | null = null;
  #deflated: Uint8Array[] = [];
  #writes: Promise<void> = Promise.resolve();

  constructor(inner: Transport, early: Uint8Array) {
    this.#inner = inner;
    this.#inflate.on("data", (chunk: Uint8Array) => this.#input.push(chunk));
    this.#inflate.on("end", () => this.#input.end());
    this.#inflate.on("error", (e: Error) => {
      // RFC 4978 §4: data that cannot be inflated ends the connection.
      this.#error ??= e;
      this.#input.fail(e);
    });
    this.#deflate.on("data", (chunk: Uint8Array) => this.#deflated.push(chunk));
    this.#deflate.on("error", (e: Error) => this.#error ??= e);
    this.#pump(early);
  }

  #feed(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#inflate.write(chunk, (e) => e ? reject(e) : resolve())
    );
  }

  async #pump(early: Uint8Array): Promise<void> {
    try {
      if (early.length > 0) await this.#feed(early);
      const buf = new Uint8Array(4096);
      for (;;) {
        while (this.#input.size > 256 * 1024) {
          await new Promise<void>((r) => this.#resumePump = r);
        }
        const n = await this.#inner.read(buf);
        if (n === null) {
          this.#inflate.end();
          return;
        }
        await this.#feed(buf.slice(0, n));
      }
    } catch (e) {
      this.#error ??= e as Error;
      this.#input.fail(e as Error);
    }
  }

  read(into: Uint8Array): Promise<number | null> {
    return this.#input.read(into);
  }

  write(bytes: Uint8Array): Promise<void> {
    const run = async () => {
      if (this.#error) throw this.#error;
      this.#deflate.write(bytes);
      await new Promise<void>((r) => this.#deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => r()));
      const out = concatBytes(this.#deflated);
      this.#deflated = [];
      await this.#inner.write(out);
    };
    const done = this.#writes.then(run);
    this.#writes = done.catch(() => {});
    return done;
  }

  close(): void {
    // Pending writes go out first; then the zlib state is released.
    this.#writes.finally(() => {
      this.#inner.close();
      this.#inflate.destroy();
      this.#deflate.destroy();
    });
  }

  tlsInfo(): { protocol: string; cipher: string } | null {
    return this.#inner.tlsInfo();
  }
}

/** Collects a message body up to a size limit; past it, only counts. */
class ByteSink {
  #out: Uint8Array;
  #len = 0;
  #size = 0;
  #tooBig = false;

  constructor(readonly max: number) {
    this.#out = new Uint8Array(Math.min(max, 64 * 1024));
  }

  /** Appends src[from, to). */
  append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    this.#size += n;
    if (this.#tooBig || this.#size > this.max) {
      this.#tooBig = true;
      return;
    }
    this.#reserve(n);
    this.#out.set(src.subarray(from, to), this.#len);
    this.#len += n;
  }

  appendCrlf(): void {
    this.#size += 2;
    if (this.#tooBig || this.#size > this.max) {
      this.#tooBig = true;
      return;
    }
    this.#reserve(2);
    this.#out[this.#len++] = CR;
    this.#out[this.#len++] = LF;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#out.length) return;
    let size = this.#out.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#out.subarray(0, this.#len));
    this.#out = next;
  }

  /** Octets received so far (also past the limit). */
  get size(): number {
    return this.#size;
  }

  result(): DotDataResult {
    if (this.#tooBig) return { data: null, size: this.#size };
    return { data: this.#out.subarray(0, this.#len), size: this.#size };
  }
}

/** "::ffff:1.2.3.4" -> "1.2.3.4". */
export function normalizeAddress(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

export function isLoopbackAddress(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.");
}
