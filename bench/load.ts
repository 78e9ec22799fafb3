/**
 * SMTP load generator: N concurrent sessions, a new connection per message, fixed-size
 * messages; reports messages/s and the p50/p99 time from the end of DATA to the reply.
 *
 * @module
 */
import { makeMessage, sendMessage } from "../tests/lib/smtp_client.ts";

export interface LoadResult {
  sent: number;
  failed: number;
  seconds: number;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  firstError: string | null;
  /** Every 250's end-of-DATA-to-reply time, ms, sorted. */
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Sends `total` messages over `sessions` concurrent connections to 127.0.0.1:port. */
export async function smtpLoad(opts: {
  port: number;
  sessions: number;
  total: number;
  size: number;
  rcpt: string;
  /** Recipients taken in turn, message by message (instead of `rcpt` alone). */
  rcpts?: string[];
  from?: string;
  /** Declare each message's size at MAIL FROM (RFC 1870 SIZE=), as MTAs do. */
  declareSize?: boolean;
  /**
   * A body of its own for each message (its last line names it): no two deliveries share a
   * stored body (by default all messages are one, as one newsletter sent many times).
   */
  uniqueBodies?: boolean;
}): Promise<LoadResult> {
  const rcpts = opts.rcpts?.length ? opts.rcpts : [opts.rcpt];
  const token = `bench-${crypto.randomUUID()}`;
  const message = makeMessage(token, opts.size);
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const t0 = performance.now();
  const worker = async () => {
    while (next < opts.total) {
      const n = next++;
      const rcpt = rcpts[n % rcpts.length];
      try {
        const r = await sendMessage({
          port: opts.port,
          from: opts.from ?? "bench@example.test",
          to: [rcpt],
          message: opts.uniqueBodies ? makeMessage(`${token}-${n}`, opts.size) : message,
          declareSize: opts.declareSize,
        });
        if (r.code === 250) latencies.push(r.dataToReplyMs);
        else {
          failed++;
          firstError ??= r.text.trim();
        }
      } catch (e) {
        failed++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.sessions }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sent: latencies.length,
    failed,
    seconds,
    msgsPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    firstError,
    latencies,
  };
}
