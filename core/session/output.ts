/**
 * The reply queue every protocol session writes through: replies are queued in command order
 * and written together, so pipelined commands (RFC 2920, RFC 2449 §6.6, RFC 9051 §5.5) cost
 * one write per batch instead of one per reply.
 *
 * Invariants:
 * - Output leaves in the order it was queued; `flush()` empties the queue before it writes,
 *   so a write that fails loses only that batch.
 * - Queued bytes are bounded by the session: `full` says when they reach `flushAt`, and the
 *   loop (or `write`) flushes then.
 * - Small pieces are joined into one write; a large batch (a message body) goes out piece by
 *   piece, never copied into one more buffer.
 *
 * @module
 */
import { concatBytes } from "../../lib/bytes.ts";
import type { Connection } from "../connection.ts";

const enc = new TextEncoder();

/** Queued output of one session. */
export class SessionOutput {
  readonly #conn: Pick<Connection, "write" | "pendingInput">;
  readonly #flushAt: number;
  #parts: (string | Uint8Array)[] = [];
  #size = 0;

  /** `flushAt`: queued bytes (string length for text) above which the batch is written. */
  constructor(conn: Pick<Connection, "write" | "pendingInput">, flushAt: number) {
    this.#conn = conn;
    this.#flushAt = flushAt;
  }

  /** Bytes (or characters) queued and not yet written. */
  get size(): number {
    return this.#size;
  }

  /** True when the queue is at its bound and should be written now. */
  get full(): boolean {
    return this.#size >= this.#flushAt;
  }

  /** True when it is time to write: the client has nothing more pipelined, or the queue is full. */
  get due(): boolean {
    return this.#conn.pendingInput === 0 || this.full;
  }

  /** Queues one piece of output. */
  send(part: string | Uint8Array): void {
    this.#parts.push(part);
    this.#size += part.length;
  }

  /** Queues, and writes at once when the queue is full (large FETCH or RETR output). */
  async write(part: string | Uint8Array): Promise<void> {
    this.send(part);
    if (this.full) await this.flush();
  }

  /** Drops what is queued (the session is ending with a goodbye that replaces it). */
  discard(): void {
    this.#parts = [];
    this.#size = 0;
  }

  /** Writes everything queued. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const parts = this.#parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
    this.discard();
    if (parts.length === 1) return await this.#conn.write(parts[0]);
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > 4 * this.#flushAt) {
      for (const p of parts) await this.#conn.write(p);
      return;
    }
    await this.#conn.write(concatBytes(parts, total));
  }
}
