/**
 * `deno task bench outbound`: outbound delivery rate, from denomail's durable queue to a
 * local SMTP sink with connection reuse. Postfix's benchmark sink `smtp-sink` (stores
 * nothing, answers at once) when installed, else a tiny Deno sink with the same manners.
 *
 * For each scenario: N messages (default 2000 x 10 KB) are enqueued through `Store.enqueue`
 * (one durable commit each, concurrently, so group commit applies), then a QueueRunner with
 * the default delivery limits (20 connections overall, 4 per destination domain) delivers
 * them; the clock runs from the runner's start until the queue is empty. MX and A records
 * come from a loopback DNS server, so each delivery does its real lookups.
 *
 * Options: --messages N, --size BYTES, --sink smtp-sink|deno, --tls-policies on|off (off:
 * `[delivery] mta_sts` and `dane` false — the MTA-STS TXT lookup per attempt is skipped).
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { log } from "../lib/log.ts";
import { Router } from "../core/router.ts";
import { QueueRunner } from "../core/queue/runner.ts";
import { smtpSender } from "../protocols/smtp/client/client.ts";
import type { Store } from "../storage/mod.ts";
import { startDnsServer, type TestDnsServer } from "../tests/lib/dns_server.ts";
import {
  dnsSettings,
  openLocalStore,
  publishDkimKey,
  sharedMxZone,
  startCountingSink,
} from "../tests/lib/outbound_fixture.ts";
import { flag } from "./smtp.ts";
import { freePort } from "./peers.ts";

/** A running sink: its port, counters, stop. */
interface Sink {
  name: string;
  port: number;
  /** Sessions ended and messages accepted so far (as the sink reports them). */
  counters(): Promise<{ sessions: number; messages: number }>;
  stop(): Promise<void>;
}

const SMTP_SINK = "/usr/sbin/smtp-sink";

/** Postfix's smtp-sink with running counters (-c), backlog 1000. */
async function startSmtpSink(): Promise<Sink | null> {
  try {
    await Deno.stat(SMTP_SINK);
  } catch {
    return null;
  }
  const port = await freePort();
  const child = new Deno.Command(SMTP_SINK, {
    args: ["-u", "postfix", "-c", `127.0.0.1:${port}`, "1000"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // -c prints "sess=S quit=Q mesg=M\r" whenever a session ends or a message is received.
  let last = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) last = (last + dec.decode(chunk)).slice(-200);
  })();
  const stderr = child.stderr.text();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const counters = () => {
    const all = [...last.matchAll(/sess=(\d+) quit=\d+ mesg=(\d+)/g)];
    const m = all[all.length - 1];
    return Promise.resolve({
      sessions: m ? Number(m[1]) : 0,
      messages: m ? Number(m[2]) : 0,
    });
  };
  // The probe connection above counts as a session.
  const probe = (await counters()).sessions;
  return {
    name: "smtp-sink",
    port,
    counters: async () => {
      const c = await counters();
      return { sessions: c.sessions - probe, messages: c.messages };
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await reading.catch(() => {});
      await stderr.catch(() => "");
    },
  };
}

/** The Deno sink: EHLO also offers SIZE; sessions counted as they end. */
function startDenoSink(): Sink {
  const sink = startCountingSink("sink.localhost", ["SIZE 52428800"]);
  return {
    name: "Deno sink",
    port: sink.port,
    counters: () =>
      Promise.resolve({ sessions: sink.stats.sessions, messages: sink.stats.messages }),
    stop: () => sink.close(),
  };
}

/** One scenario's result. */
interface Row {
  scenario: string;
  messages: number;
  enqueuePerSec: number;
  seconds: number;
  msgsPerSec: number;
  sessions: number;
  delivered: number;
}

/** A 10 KB-ish text message from `from` to `to`. */
function makeMessage(i: number, from: string, to: string, size: number): Uint8Array {
  const head = `From: <${from}>\r\nTo: <${to}>\r\nSubject: outbound bench ${i}\r\n` +
    `Message-ID: <bench-${i}-${crypto.randomUUID()}@bench.example.test>\r\n` +
    `Date: ${new Date().toUTCString()}\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog, again and again. 0123456789\r\n";
  let body = "";
  while (head.length + body.length + line.length <= size) body += line;
  return new TextEncoder().encode(head + body);
}

/** Enqueues `total` messages for remote recipients, `concurrency` commits in flight. */
async function fill(
  store: Store,
  opts: { total: number; size: number; domains: number; from: string },
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < opts.total) {
      const i = next++;
      const to = `u${i % 100}@d${i % opts.domains}.bench.test`;
      await store.enqueue(makeMessage(i, opts.from, to, opts.size), {
        sender: opts.from,
        recipients: [{ address: to, status: "pending" }],
        nextAttemptAt: 0,
        meta: {},
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return opts.total / ((performance.now() - t0) / 1000);
}

/** True when no queue entry is left (delivered or not). */
async function queueEmpty(store: Store): Promise<boolean> {
  return (await store.dueQueue(Number.MAX_SAFE_INTEGER, 1)).length === 0;
}

async function scenario(
  name: string,
  sink: Sink,
  dns: TestDnsServer,
  opts: { total: number; size: number; domains: number; dkim: boolean },
): Promise<Row> {
  const local = await openLocalStore("bench-outbound-", {
    hostname: "bench.example.test",
    dns: dnsSettings(dns, "5s"),
    delivery: { smtp_port: sink.port, ...(policiesOff ? { mta_sts: false, dane: false } : {}) },
  });
  const { config, store } = local;
  const before = await sink.counters();
  let runner: QueueRunner | null = null;
  try {
    if (opts.dkim) await publishDkimKey(dns, config.dataDir, "bench.example.test", "bench");
    const enqueuePerSec = await fill(store, { ...opts, from: "sender@bench.example.test" });
    runner = new QueueRunner({
      config,
      store,
      router: new Router(store),
      now: Date.now,
      ...(opts.dkim ? {} : { signer: null }),
    }, smtpSender);
    const t0 = performance.now();
    runner.start();
    while (!(await queueEmpty(store))) await new Promise((r) => setTimeout(r, 10));
    const seconds = (performance.now() - t0) / 1000;
    await runner.stop(); // QUITs the pooled connections: the sink counts those sessions
    runner = null;
    let after = await sink.counters();
    for (let i = 0; i < 100 && after.sessions < before.sessions + 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = await sink.counters();
    }
    return {
      scenario: name,
      messages: opts.total,
      enqueuePerSec,
      seconds,
      msgsPerSec: opts.total / seconds,
      sessions: after.sessions - before.sessions,
      delivered: after.messages - before.messages,
    };
  } finally {
    await runner?.stop();
    await local.close();
  }
}

let policiesOff = false;

export async function benchOutbound(args: string[]): Promise<void> {
  policiesOff = flag(args, "--tls-policies") === "off";
  const total = Number(flag(args, "--messages") ?? 2000);
  const size = Number(flag(args, "--size") ?? 10240);
  const which = flag(args, "--sink");
  // One line per delivery attempt would measure the terminal, not the queue.
  log.level = "warn";

  const sink = (which === "deno" ? null : await startSmtpSink()) ?? startDenoSink();
  const domains = Array.from({ length: 10 }, (_, d) => `d${d}.bench.test`);
  const dns = await startDnsServer(sharedMxZone("mx.bench.test", domains));
  console.log(
    `Outbound delivery: ${total} messages x ${size} B from the durable queue to ${sink.name} ` +
      `on loopback,\nMX + A lookups via a loopback DNS server, default limits (20 connections ` +
      `overall, 4 per domain),\nconnections reused; the clock runs until the queue is empty.\n`,
  );
  const rows: Row[] = [];
  try {
    // Warm up (JIT, first commits) on a small run.
    await scenario("warm-up", sink, dns, { total: 200, size, domains: 10, dkim: false });
    rows.push(await scenario("1 domain", sink, dns, { total, size, domains: 1, dkim: false }));
    rows.push(await scenario("10 domains", sink, dns, { total, size, domains: 10, dkim: false }));
    rows.push(
      await scenario("10 domains, DKIM-signed", sink, dns, {
        total,
        size,
        domains: 10,
        dkim: true,
      }),
    );
  } finally {
    await dns.close();
    await sink.stop();
  }
  printTable(rows);
}

function printTable(rows: Row[]): void {
  const header = [
    "scenario",
    "messages",
    "enqueue msgs/s",
    "delivery s",
    "delivered msgs/s",
    "sink got",
    "sessions",
    "msgs/session",
  ];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.messages),
    r.enqueuePerSec.toFixed(0),
    r.seconds.toFixed(2),
    r.msgsPerSec.toFixed(0),
    String(r.delivered),
    String(r.sessions),
    r.sessions ? (r.delivered / r.sessions).toFixed(1) : "-",
  ]);
  printMarkdownTable(header, lines);
}
