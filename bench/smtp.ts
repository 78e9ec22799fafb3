/**
 * `deno task bench smtp`: durable SMTP acceptance, denomail side by side with Postfix and
 * Haraka (disk queue) when ../shared/peers has installed them. Each server receives the same
 * load from the same generator: SESSIONS concurrent sessions, a new connection per message,
 * 10 KB messages. smtp-source's rate is shown too when it is installed.
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { smtpLoad } from "./load.ts";
import { type Peer, smtpSource, startHaraka, startPostfix } from "./peers.ts";
import { startDenomailProcess } from "../tests/lib/server_process.ts";

interface Row {
  server: string;
  msgsPerSec: number;
  p50: number;
  p99: number;
  smtpSource: number | null;
  failed: number;
}

async function measure(
  name: string,
  port: number,
  rcpt: string,
  opts: { sessions: number; total: number; size: number },
): Promise<Row> {
  // Warm up (JIT, first fsyncs), then measure.
  await smtpLoad({
    port,
    sessions: opts.sessions,
    total: Math.min(200, opts.total),
    size: opts.size,
    rcpt,
  });
  const r = await smtpLoad({
    port,
    sessions: opts.sessions,
    total: opts.total,
    size: opts.size,
    rcpt,
  });
  if (r.failed > 0) console.error(`${name}: ${r.failed} failed, first: ${r.firstError}`);
  const ss = await smtpSource(port, opts.sessions, opts.total, opts.size, rcpt);
  return {
    server: name,
    msgsPerSec: r.msgsPerSec,
    p50: r.p50Ms,
    p99: r.p99Ms,
    smtpSource: ss,
    failed: r.failed,
  };
}

/** Starts denomail as its own process on a temp data dir with user u1@example.test. */
async function startDenomail() {
  const dm = await startDenomailProcess({
    prefix: "bench-denomail-",
    hostname: "bench.example.test",
    listen: ["smtp"],
    user: ["u1@example.test", "bench-password"],
  });
  return { port: dm.proc.ports.smtp, stop: dm.stop };
}

export async function benchSmtp(args: string[]): Promise<void> {
  const sessions = Number(flag(args, "--sessions") ?? 20);
  const total = Number(flag(args, "--messages") ?? 2000);
  const size = Number(flag(args, "--size") ?? 10240);
  const opts = { sessions, total, size };
  console.log(`SMTP acceptance: ${total} messages x ${size} B, ${sessions} concurrent sessions,`);
  console.log("a new connection per message; each message synced to disk before its 250.\n");
  const rows: Row[] = [];

  const dm = await startDenomail();
  try {
    rows.push(await measure("denomail", dm.port, "u1@example.test", opts));
  } finally {
    await dm.stop();
  }
  for (const start of [startPostfix, startHaraka]) {
    let peer: Peer | null = null;
    try {
      peer = await start();
      if (peer) rows.push(await measure(peer.name, peer.port, "u1@example.test", opts));
    } finally {
      await peer?.stop();
    }
  }
  printTable(rows);
  console.log(
    "\nmsgs/s and latencies: this Deno load generator (it shares the 2 cores with the server);" +
      "\nsmtp-source: Postfix's C load generator, the issue's reference method.",
  );
}

function printTable(rows: Row[]): void {
  const base = rows[0];
  const header = [
    "server",
    "msgs/s",
    "p50 ms",
    "p99 ms",
    "denomail ×",
    "smtp-source msgs/s",
    "denomail × (smtp-source)",
  ];
  const lines = rows.map((r) => [
    r.server,
    r.msgsPerSec.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r === base ? "" : (base.msgsPerSec / r.msgsPerSec).toFixed(2),
    r.smtpSource === null ? "-" : r.smtpSource.toFixed(0),
    r === base || r.smtpSource === null || base.smtpSource === null
      ? ""
      : (base.smtpSource / r.smtpSource).toFixed(2),
  ]);
  printMarkdownTable(header, lines);
}

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
