/**
 * `deno task bench plugins`: what plugins cost. Durable SMTP acceptance (the same load
 * generator as `bench smtp`: concurrent sessions, a new connection per message, 10 KB
 * messages, 250 only after the fsync) with 0 and with 3 no-op plugins on the `data` hook
 * (each in its own sandbox process, and the three as one `group` sharing a process),
 * rounds interleaved; then the hook round trip measured directly on a PluginHost (one
 * sequential call at a time: context out, answer back) for an empty `rcpt` context and for
 * a `data` context carrying the 10 KB message.
 *
 * Besides messages per second (which on a shared 2-core machine swing with whatever else
 * runs), it reports the CPU time the server and its plugin processes spent per message
 * (utime + stime from /proc over the measured run): the steadier figure, and the one that
 * bounds throughput when the machine is saturated.
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { percentile, smtpLoad } from "./load.ts";
import { flag } from "./smtp.ts";
import { startDenomailProcess } from "../tests/lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { makeMessage } from "../tests/lib/smtp_client.ts";

const FIXTURES = new URL("../tests/fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

/**
 * denomail as its own process on a temp data dir, with `plugins` no-op data plugins, each
 * in its own process or (`group`) all in one.
 */
async function startDenomail(plugins: number, group: boolean) {
  const tables = Array.from(
    { length: plugins },
    (_, i) =>
      `[[plugins]]\nname = "noop${i + 1}"\nmodule = "${fixture("noop_data.ts")}"\n` +
      (group ? `group = "noops"\n` : ""),
  ).join("");
  const dm = await startDenomailProcess({
    prefix: "bench-plugins-",
    hostname: "bench.example.test",
    listen: ["smtp"],
    user: ["u1@example.test", "bench-password"],
    tables,
  });
  return { port: dm.proc.ports.smtp, pid: dm.proc.child.pid, stop: dm.stop };
}

/** CPU ms (user + system) used so far by `pid` and its live child processes (Linux). */
function treeCpuMs(pid: number): number {
  const tick = 10; // USER_HZ is 100 on Linux
  let total = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      // fields after the name: state(0) ppid(1) ... utime(11) stime(12)
      if (Number(e.name) === pid || Number(rest[1]) === pid) {
        total += (Number(rest[11]) + Number(rest[12])) * tick;
      }
    } catch { /* gone */ }
  }
  return total;
}

/** A configuration measured: how many plugins, and how they are run. */
interface Setup {
  label: string;
  plugins: number;
  group: boolean;
}

const SETUPS: Setup[] = [
  { label: "0 plugins", plugins: 0, group: false },
  { label: "3 plugins, own processes", plugins: 3, group: false },
  { label: "3 plugins, one group", plugins: 3, group: true },
];

interface Round {
  setup: Setup;
  msgsPerSec: number;
  cpuMsPerMsg: number;
  p50: number;
  p99: number;
  failed: number;
}

async function acceptance(
  setup: Setup,
  opts: { sessions: number; total: number; size: number },
): Promise<Round> {
  const dm = await startDenomail(setup.plugins, setup.group);
  try {
    const load = (total: number) =>
      smtpLoad({
        port: dm.port,
        sessions: opts.sessions,
        total,
        size: opts.size,
        rcpt: "u1@example.test",
      });
    await load(Math.min(300, opts.total)); // warm up: JIT, plugin processes, first fsyncs
    const cpu0 = treeCpuMs(dm.pid);
    const r = await load(opts.total);
    const cpuMsPerMsg = (treeCpuMs(dm.pid) - cpu0) / Math.max(1, r.sent);
    if (r.failed > 0) {
      console.error(`${setup.label}: ${r.failed} failed, first: ${r.firstError}`);
    }
    return {
      setup,
      msgsPerSec: r.msgsPerSec,
      cpuMsPerMsg,
      p50: r.p50Ms,
      p99: r.p99Ms,
      failed: r.failed,
    };
  } finally {
    await dm.stop();
  }
}

/** Sequential calls of one hook on a one-plugin PluginHost: p50 / p99 ms per round trip. */
async function roundTrips(hook: "rcpt" | "data", calls: number, size: number) {
  const dir = await Deno.makeTempDir({ prefix: "bench-plugins-host-" });
  const module = fixture(hook === "rcpt" ? "noop.ts" : "noop_data.ts");
  const config = configFromObject({ data_dir: dir, plugins: [{ name: "noop", module }] }, dir);
  const host = await PluginHost.start(config, { strict: true });
  const session = { id: "bench", remoteIp: "127.0.0.1", tls: false };
  const addr = { address: "a@b.test", local: "a", domain: "b.test" };
  const message = makeMessage("bench-host", size);
  const ms: number[] = [];
  try {
    for (let i = 0; i < calls + 200; i++) {
      const t0 = performance.now();
      const o = hook === "rcpt"
        ? await host.run("rcpt", { session, sender: addr, rcpt: addr, recipients: [] })
        : await host.run("data", { session, sender: addr, recipients: [addr], message });
      const took = performance.now() - t0;
      if (o.results.length !== 1 || o.results[0].error) {
        throw new Error(`hook failed: ${JSON.stringify(o.results)}`);
      }
      if (i >= 200) ms.push(took); // the first 200 warm up
    }
  } finally {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export async function benchPlugins(args: string[]): Promise<void> {
  const sessions = Number(flag(args, "--sessions") ?? 20);
  const total = Number(flag(args, "--messages") ?? 2000);
  const size = Number(flag(args, "--size") ?? 10240);
  const rounds = Number(flag(args, "--rounds") ?? 3);
  const calls = Number(flag(args, "--calls") ?? 3000);
  const opts = { sessions, total, size };
  console.log(`Plugin overhead: SMTP acceptance, ${total} messages x ${size} B, ${sessions}`);
  console.log(`concurrent sessions, a new connection per message, each synced before its 250;`);
  console.log(`0 vs 3 no-op plugins on the data hook, ${rounds} interleaved rounds each.\n`);
  const all: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const setup of SETUPS) all.push(await acceptance(setup, opts));
  }
  // Medians: one round disturbed by something else on the machine does not move them.
  const of = (s: Setup) => all.filter((r) => r.setup === s);
  const median = (s: Setup, k: "msgsPerSec" | "cpuMsPerMsg" | "p50" | "p99") => {
    const xs = of(s).map((r) => r[k]).sort((a, b) => a - b);
    const m = xs.length >> 1;
    return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  };
  const best = (s: Setup) => Math.max(...of(s).map((r) => r.msgsPerSec));
  const lost = (a: number, b: number) => `${((1 - b / a) * 100).toFixed(1)} %`;
  const base = SETUPS[0];
  const rows = SETUPS.map((s) => [
    s.label,
    median(s, "msgsPerSec").toFixed(0),
    best(s).toFixed(0),
    median(s, "p50").toFixed(2),
    median(s, "p99").toFixed(2),
    of(s).map((r) => r.msgsPerSec.toFixed(0)).join(" / "),
    median(s, "cpuMsPerMsg").toFixed(3),
    s === base ? "" : lost(median(base, "msgsPerSec"), median(s, "msgsPerSec")),
    s === base ? "" : lost(best(base), best(s)),
    s === base ? "" : lost(median(s, "cpuMsPerMsg"), median(base, "cpuMsPerMsg")),
  ]);
  printMarkdownTable([
    "config",
    "msgs/s (median)",
    "best",
    "p50 ms",
    "p99 ms",
    "rounds msgs/s",
    "CPU ms/msg",
    "lost (median)",
    "lost (best)",
    "lost if CPU-bound",
  ], rows);

  const rcpt = await roundTrips("rcpt", calls, size);
  const data = await roundTrips("data", calls, size);
  console.log(`\n"lost if CPU-bound": the extra CPU per message as a share of the total, which is`);
  console.log(`what throughput loses on a saturated machine (msgs/s swing with other load).`);
  console.log(`\nHook round trip on the host (${calls} sequential calls, after 200 to warm up):\n`);
  printMarkdownTable(["hook context", "p50 ms", "p99 ms"], [
    ["rcpt (no message)", rcpt.p50.toFixed(3), rcpt.p99.toFixed(3)],
    [`data (${size} B message)`, data.p50.toFixed(3), data.p99.toFixed(3)],
  ]);
}
