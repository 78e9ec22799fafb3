/**
 * `deno task bench plugins`: what plugins cost, side by side with what admins use today.
 * Durable SMTP acceptance (the load generator of `bench smtp`: concurrent sessions, a new
 * connection per message, 10 KB messages, 250 only after the fsync), rounds interleaved:
 *
 * - denomail with 0 plugins (the baseline), and with three no-op `data` plugins that read
 *   the whole message (each in its own sandbox process, and the three as one `group`),
 *   that read the headers only, the envelope only (sdk.ts `Reads`; these two declare
 *   `early`, sdk.ts `Early`, and the envelope-only row is run once more without it), and
 *   three plugins with no hook at SMTP time (only `bounced`);
 * - Postfix alone, and Postfix with three no-op milters (bench/milter_noop.py, Debian's
 *   python3-milter: each milter its own process, fed the envelope, headers and body over a
 *   socket), when Postfix and python3-milter are installed.
 *
 * The load generator declares each message's size at MAIL FROM (RFC 1870 SIZE=, as MTAs
 * do; `--no-size`: it does not), which is what lets an envelope-only early plugin be asked
 * at DATA's 354. `--rounds N`, `--messages N`, `--only "a|=b"` (label substrings or whole labels),
 * `--chunks N` (see `chunked`).
 *
 * Then the hook round trip measured directly on a PluginHost (one sequential call at a
 * time) for an empty `rcpt` context and for a `data` context carrying the 10 KB message,
 * its headers only, or nothing of it: what carrying the body to a plugin costs.
 *
 * Besides messages per second (which on a shared 2-core machine swing with whatever else
 * runs), it reports the CPU time the server and its plugin processes (or milters) spent per
 * message (utime + stime from /proc over the measured run): the steadier figure, and the
 * one that bounds throughput when the machine is saturated. For denomail's plugin
 * processes it also reports what explains their cost: CPU µs per call, calls handled per
 * wake-up (schedstat), how many frames the host's writes and reads carried, and how often
 * an early answer was not back yet when its message needed it (and for how long).
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { percentile, smtpLoad } from "./load.ts";
import { flag } from "./smtp.ts";
import { freePort, startPostfix } from "./peers.ts";
import { startDenomailProcess } from "../tests/lib/server_process.ts";
import { configFromObject } from "../core/config.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { makeMessage } from "../tests/lib/smtp_client.ts";

const FIXTURES = new URL("../tests/fixtures/plugins/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;
const MILTER = new URL("./milter_noop.py", import.meta.url).pathname;
const MILTER_C = new URL("./milter_noop.c", import.meta.url).pathname;
/** Debian's interpreter: python3-milter is installed for it, not for a pyenv python3. */
const PYTHON = "/usr/bin/python3";

/** A configuration measured. */
interface Setup {
  label: string;
  server: "denomail" | "postfix";
  /** denomail: plugins of this fixture; postfix: this many no-op milters. */
  count: number;
  module?: string;
  group?: boolean;
  /** The issue's target for this row, shown beside the figure. */
  target?: string;
  /** postfix: which no-op milter (milter_noop.py or milter_noop.c). */
  milter?: "python" | "c";
  /** denomail: environment for the server (and so its plugin runners). */
  env?: Record<string, string>;
}

const SETUPS: Setup[] = [
  { label: "denomail, 0 plugins", server: "denomail", count: 0 },
  {
    label: "3 whole-message plugins, own processes",
    server: "denomail",
    count: 3,
    module: "noop_data.ts",
    target: "report (explain > 25 %)",
  },
  {
    label: "3 whole-message plugins, one group",
    server: "denomail",
    count: 3,
    module: "noop_data.ts",
    group: true,
    target: "≤ 15 %",
  },
  {
    label: "3 headers-only plugins, own processes",
    server: "denomail",
    count: 3,
    module: "noop_headers.ts",
    target: "≤ 5 % each",
  },
  {
    label: "3 headers-only plugins, own processes, asked in turn",
    server: "denomail",
    count: 3,
    module: "noop_headers_inturn.ts",
    target: "(the row above, without early)",
  },
  {
    label: "3 envelope-only plugins, own processes",
    server: "denomail",
    count: 3,
    module: "noop_envelope.ts",
    target: "≤ 3 % each",
  },
  {
    // The same without `early` (sdk.ts `Early`): each asked in its turn, after the message.
    label: "3 envelope-only plugins, own processes, asked in turn",
    server: "denomail",
    count: 3,
    module: "noop_envelope_inturn.ts",
    target: "(the row above, without early)",
  },
  {
    // The same without SCHED_BATCH runners (plugins/engine/spawn.ts): what that choice buys.
    label: "3 envelope-only plugins, own processes, normal scheduling",
    server: "denomail",
    count: 3,
    module: "noop_envelope.ts",
    env: { DENOMAIL_PLUGIN_SCHED: "normal" },
    target: "(the row above, as before)",
  },
  {
    label: "3 plugins with no hook at this stage",
    server: "denomail",
    count: 3,
    module: "noop_bounced.ts",
    target: "0",
  },
  { label: "Postfix, no milter", server: "postfix", count: 0 },
  {
    label: "Postfix + 3 no-op milters (python3-milter)",
    server: "postfix",
    count: 3,
    milter: "python",
  },
  { label: "Postfix + 3 no-op milters (C, libmilter)", server: "postfix", count: 3, milter: "c" },
];

/**
 * CPU ms (user + system) used so far by `pids` and their live child processes (Linux);
 * `childrenOnly`: by the children alone (denomail's plugin processes).
 */
function treeCpuMs(pids: number[], childrenOnly = false): number {
  const tick = 10; // USER_HZ is 100 on Linux
  const roots = new Set(pids);
  let total = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      // fields after the name: state(0) ppid(1) ... utime(11) stime(12)
      if ((!childrenOnly && roots.has(Number(e.name))) || roots.has(Number(rest[1]))) {
        total += (Number(rest[11]) + Number(rest[12])) * tick;
      }
    } catch { /* gone */ }
  }
  return total;
}

/** The host's side of the wire in one run (see `Running.wire`). */
interface Wire {
  perWrite: number;
  perRead: number;
  /** Share of early answers the message had to wait for, and their mean wait. */
  earlyLate?: number;
  earlyWaitMs?: number;
}

/** A server under test: its SMTP port, the processes to count CPU for, and a stop. */
interface Running {
  port: number;
  /** Processes whose CPU (with their children's) is the server's. */
  pids: number[];
  /** CPU ms so far of the plugin processes (denomail) or milters (Postfix). */
  helperCpuMs(): number;
  /** denomail: the plugin processes' CPU ns and times scheduled in so far (schedstat). */
  runners?(): { ns: number; slices: number; count: number };
  /** denomail, after stop: frames per write and per read on the host's side of the wire. */
  wire?(): Wire | null;
  /** Messages each milter saw (from its count file), after the run. */
  milterCounts(): number[];
  stop(): Promise<void>;
}

async function startDenomail(setup: Setup): Promise<Running> {
  const tables = Array.from(
    { length: setup.count },
    (_, i) =>
      `[[plugins]]\nname = "noop${i + 1}"\nmodule = "${fixture(setup.module!)}"\n` +
      (setup.group ? `group = "noops"\n` : ""),
  ).join("");
  // The server inherits this process's environment: set this setup's, clear the others'.
  Deno.env.delete("DENOMAIL_PLUGIN_SCHED");
  for (const [k, v] of Object.entries(setup.env ?? {})) Deno.env.set(k, v);
  const dm = await startDenomailProcess({
    prefix: "bench-plugins-",
    hostname: "bench.example.test",
    listen: ["smtp"],
    user: ["u1@example.test", "bench-password"],
    tables,
  });
  return {
    port: dm.proc.ports.smtp,
    pids: [dm.proc.child.pid],
    helperCpuMs: () => treeCpuMs([dm.proc.child.pid], true),
    milterCounts: () => [],
    runners: () => childSched(dm.proc.child.pid),
    wire: () => {
      const m = dm.proc.log().match(
        /plugin wire writes=(\d+) framesOut=(\d+) reads=(\d+) framesIn=(\d+)/,
      );
      if (!m) return null;
      // Early answers (sdk.ts Early) not yet there when the message needed them, and how long
      // it waited: the round trip a closed-loop client pays for (the host logs it at stop).
      const e = dm.proc.log().match(/plugin early calls used=(\d+) waited=(\d+) waitedMs=(\d+)/);
      return {
        perWrite: +m[2] / +m[1],
        perRead: +m[4] / +m[3],
        ...(e && +e[1] > 0
          ? { earlyLate: +e[2] / +e[1], earlyWaitMs: +e[3] / Math.max(1, +e[2]) }
          : {}),
      };
    },
    stop: dm.stop,
  };
}

/** Waits until something accepts connections on 127.0.0.1:port (or throws at the deadline). */
async function listening(port: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${port}: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function startPostfixSetup(setup: Setup): Promise<Running | null> {
  const dir = await Deno.makeTempDir({ prefix: "bench-milters-" });
  const milters: Deno.ChildProcess[] = [];
  const ports: number[] = [];
  const stopMilters = async () => {
    for (const m of milters) {
      try {
        m.kill("SIGKILL");
      } catch { /* gone */ }
      await m.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    // The C milter is built here, into the temp folder (needs cc and libmilter-dev).
    const c = setup.milter === "c";
    if (c) {
      const cc = await new Deno.Command("cc", {
        args: ["-O2", "-o", `${dir}/milter_noop`, MILTER_C, "-lmilter", "-pthread"],
        stdout: "null",
        stderr: "piped",
      }).output().catch(() => null);
      if (!cc || cc.code !== 0) {
        console.error(
          `no C milter (cc, libmilter-dev): ${cc ? new TextDecoder().decode(cc.stderr) : "no cc"}`,
        );
        await stopMilters();
        return null;
      }
    }
    for (let i = 0; i < setup.count; i++) {
      const port = freePort();
      const args = [`noop${i + 1}`, String(port), `${dir}/noop${i + 1}.count`];
      milters.push(
        new Deno.Command(c ? `${dir}/milter_noop` : PYTHON, {
          args: c ? args : [MILTER, ...args],
          stdout: "null",
          stderr: "inherit",
        }).spawn(),
      );
      ports.push(port);
      await listening(port);
    }
  } catch (e) {
    await stopMilters();
    throw e;
  }
  const peer = await startPostfix(
    setup.count > 0
      ? {
        smtpd_milters: ports.map((p) => `inet:127.0.0.1:${p}`).join(","),
        // A milter that cannot be reached fails the message: all 250s prove they ran.
        milter_default_action: "tempfail",
      }
      : {},
    setup.label,
  );
  if (!peer) {
    await stopMilters();
    return null;
  }
  return {
    port: peer.port,
    pids: [...(peer.pid ? [peer.pid] : []), ...milters.map((m) => m.pid)],
    helperCpuMs: () => treeCpuMs(milters.map((m) => m.pid)),
    milterCounts: () =>
      milters.map((_, i) => {
        try {
          return Number(Deno.readTextFileSync(`${dir}/noop${i + 1}.count`));
        } catch {
          return 0;
        }
      }),
    async stop() {
      await peer.stop();
      await stopMilters();
    },
  };
}

interface Round {
  setup: Setup;
  msgsPerSec: number;
  cpuMsPerMsg: number;
  /** Plugin processes' (or milters') share of cpuMsPerMsg. */
  milterCpuMsPerMsg: number;
  p50: number;
  p99: number;
  failed: number;
  milterSeen: number[];
  /** denomail with plugins: CPU µs per call of a plugin process, and calls per wake-up. */
  runnerUsPerCall?: number;
  callsPerWake?: number;
  /** denomail with plugins: frames per write and per read on the host (whole run). */
  wire?: Wire | null;
}

interface AcceptanceOpts {
  sessions: number;
  total: number;
  size: number;
  declareSize: boolean;
}

async function acceptance(setup: Setup, opts: AcceptanceOpts): Promise<Round | null> {
  const srv = setup.server === "denomail"
    ? await startDenomail(setup)
    : await startPostfixSetup(setup);
  if (!srv) return null;
  let stopped = false;
  try {
    const load = (total: number) =>
      smtpLoad({
        port: srv.port,
        sessions: opts.sessions,
        total,
        size: opts.size,
        rcpt: "u1@example.test",
        declareSize: opts.declareSize,
      });
    await load(Math.min(300, opts.total)); // warm up: JIT, plugin processes, first fsyncs
    const cpu0 = treeCpuMs(srv.pids);
    const m0 = srv.helperCpuMs();
    const s0 = srv.runners?.();
    const r = await load(opts.total);
    const s1 = srv.runners?.();
    const sent = Math.max(1, r.sent);
    // Each plugin process is asked once per message (a group: once for its members).
    const calls = s1 && s1.count > 0 && setup.module !== "noop_bounced.ts" ? sent * s1.count : 0;
    const cpuMsPerMsg = (treeCpuMs(srv.pids) - cpu0) / sent;
    const milterCpuMsPerMsg = (srv.helperCpuMs() - m0) / sent;
    if (r.failed > 0) {
      console.error(`${setup.label}: ${r.failed} failed, first: ${r.firstError}`);
    }
    const milterSeen = srv.milterCounts(); // before the stop removes their count files
    // The host logs its wire figures as it stops.
    stopped = true;
    await srv.stop();
    const wire = srv.wire?.() ?? null;
    return {
      setup,
      msgsPerSec: r.msgsPerSec,
      cpuMsPerMsg,
      milterCpuMsPerMsg,
      p50: r.p50Ms,
      p99: r.p99Ms,
      failed: r.failed,
      milterSeen,
      ...(calls > 0 && s0 && s1
        ? {
          runnerUsPerCall: (s1.ns - s0.ns) / calls / 1000,
          callsPerWake: calls / Math.max(1, s1.slices - s0.slices),
          wire,
        }
        : {}),
    };
  } finally {
    if (!stopped) await srv.stop();
  }
}

/**
 * `--chunks N`: the round's denomail servers all run at once (an idle one costs nothing:
 * its plugin processes sleep) and the load visits them in turn, N chunks of total/N
 * messages each, starting with a different one each chunk: each server meets the other
 * work on the shared machine in the same seconds, which per-server rounds of several
 * seconds each do not. CPU from schedstat (ns) of the server and its plugin processes.
 */
async function chunked(setups: Setup[], opts: AcceptanceOpts, chunks: number): Promise<Round[]> {
  const servers: Array<[Setup, Running]> = [];
  try {
    for (const s of setups) servers.push([s, await startDenomail(s)]);
    const load = (srv: Running, total: number) =>
      smtpLoad({ ...opts, port: srv.port, total, rcpt: "u1@example.test" });
    for (const [, srv] of servers) await load(srv, Math.min(300, opts.total));
    const sums = servers.map(() => ({ sent: 0, s: 0, failed: 0, lat: [] as number[], ns: 0 }));
    const helper = servers.map(() => ({ ns: 0, slices: 0, count: 0 }));
    const per = Math.max(20, Math.round(opts.total / chunks));
    for (let c = 0; c < chunks; c++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (c + k) % servers.length;
        const srv = servers[i][1];
        const pid = srv.pids[0];
        const h0 = childSched(pid);
        const c0 = schedOf(pid).ns + h0.ns;
        const r = await load(srv, per);
        const h1 = childSched(pid);
        const sum = sums[i];
        sum.ns += schedOf(pid).ns + h1.ns - c0;
        Object.assign(sum, { sent: sum.sent + r.sent, s: sum.s + r.seconds });
        sum.failed += r.failed;
        sum.lat.push(...r.latencies);
        helper[i].ns += h1.ns - h0.ns;
        helper[i].slices += h1.slices - h0.slices;
        helper[i].count = h1.count;
      }
    }
    const rounds: Round[] = [];
    for (const [i, [setup, srv]] of servers.entries()) {
      const { sent, s, failed, lat, ns } = sums[i];
      await srv.stop();
      lat.sort((a, b) => a - b);
      const calls = setup.module !== "noop_bounced.ts" ? sent * helper[i].count : 0;
      rounds.push({
        setup,
        msgsPerSec: sent / s,
        cpuMsPerMsg: ns / 1e6 / Math.max(1, sent),
        milterCpuMsPerMsg: helper[i].ns / 1e6 / Math.max(1, sent),
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        failed,
        milterSeen: [],
        ...(calls > 0
          ? {
            runnerUsPerCall: helper[i].ns / calls / 1000,
            callsPerWake: calls / Math.max(1, helper[i].slices),
            wire: srv.wire?.() ?? null,
          }
          : {}),
      });
    }
    servers.length = 0;
    return rounds;
  } finally {
    for (const [, srv] of servers) await srv.stop().catch(() => {});
  }
}

/** CPU ns and times scheduled in of one process (all its threads), from schedstat. */
function schedOf(pid: number): { ns: number; slices: number } {
  let ns = 0;
  let slices = 0;
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const f = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ");
      ns += Number(f[0]);
      slices += Number(f[2]);
    }
  } catch { /* gone */ }
  return { ns, slices };
}

/** The same summed over the child processes of `ppid` (denomail's plugin runners). */
function childSched(ppid: number): { ns: number; slices: number; count: number } {
  const sum = { ns: 0, slices: 0, count: 0 };
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(f.slice(f.lastIndexOf(")") + 2).split(" ")[1]) !== ppid) continue;
      const s = schedOf(Number(e.name));
      sum.ns += s.ns;
      sum.slices += s.slices;
      sum.count++;
    } catch { /* gone */ }
  }
  return sum;
}

type DataReads = "message" | "headers" | "envelope";

/**
 * CPU ns so far of this process (`self`) and of its child processes (the plugin runner),
 * from each thread's /proc schedstat (ns, where /proc stat counts 10 ms ticks: too coarse
 * for a few thousand calls of ~20 µs).
 */
function schedCpuNs(): { self: number; children: number } {
  return { self: schedOf(Deno.pid).ns, children: childSched(Deno.pid).ns };
}

/**
 * Sequential calls of one hook on a one-plugin PluginHost: p50 / p99 ms per round trip,
 * and the CPU µs per call on the host (this process) and in the plugin process.
 */
async function roundTrips(hook: "rcpt" | "data", reads: DataReads, calls: number, size: number) {
  const dir = await Deno.makeTempDir({ prefix: "bench-plugins-host-" });
  const module = fixture(
    hook === "rcpt"
      ? "noop.ts"
      : { message: "noop_data.ts", headers: "noop_headers.ts", envelope: "noop_envelope.ts" }[
        reads
      ],
  );
  const config = configFromObject({ data_dir: dir, plugins: [{ name: "noop", module }] }, dir);
  const host = await PluginHost.start(config, { strict: true });
  const session = { id: "bench", remoteIp: "127.0.0.1", tls: false };
  const addr = { address: "a@b.test", local: "a", domain: "b.test" };
  const message = makeMessage("bench-host", size);
  const ms: number[] = [];
  let cpu0 = { self: 0, children: 0 };
  let cpu1 = cpu0;
  try {
    for (let i = 0; i < calls + 200; i++) {
      if (i === 200) cpu0 = schedCpuNs();
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
    cpu1 = schedCpuNs();
  } finally {
    await host.stop();
    await Deno.remove(dir, { recursive: true });
  }
  ms.sort((a, b) => a - b);
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    hostUs: (cpu1.self - cpu0.self) / calls / 1000,
    pluginUs: (cpu1.children - cpu0.children) / calls / 1000,
  };
}

export async function benchPlugins(args: string[]): Promise<void> {
  const sessions = Number(flag(args, "--sessions") ?? 20);
  const total = Number(flag(args, "--messages") ?? 2000);
  const size = Number(flag(args, "--size") ?? 10240);
  const rounds = Number(flag(args, "--rounds") ?? 3);
  const calls = Number(flag(args, "--calls") ?? 3000);
  // Label substrings ("=label": exactly that one), "|" between them: run those setups (and
  // the baseline).
  const only = flag(args, "--only")?.split("|");
  // Clients declare each message's size (RFC 1870), as MTAs do; --no-size: they do not.
  const declareSize = !args.includes("--no-size");
  const opts = { sessions, total, size, declareSize };
  const setups = SETUPS.filter((s, i) =>
    i === 0 || !only ||
    only.some((o) => o.startsWith("=") ? s.label === o.slice(1) : s.label.includes(o))
  );
  console.log(`Plugin overhead: SMTP acceptance, ${total} messages x ${size} B, ${sessions}`);
  console.log(`concurrent sessions, a new connection per message, each synced before its 250;`);
  console.log(`the client ${declareSize ? "declares" : "does not declare"} SIZE= at MAIL FROM;`);
  console.log(
    `${rounds} interleaved rounds per configuration${
      flag(args, "--chunks") ? `, each in ${flag(args, "--chunks")} chunks per server` : ""
    }; shared 2-core machine.\n`,
  );
  const all: Round[] = [];
  const chunks = Number(flag(args, "--chunks") ?? 0);
  for (let i = 0; i < rounds; i++) {
    if (chunks > 0) {
      // Postfix rows, if any, still run one after another.
      all.push(...await chunked(setups.filter((s) => s.server === "denomail"), opts, chunks));
    }
    for (const setup of setups) {
      if (chunks > 0 && setup.server === "denomail") continue;
      const r = await acceptance(setup, opts);
      if (r) all.push(r);
    }
  }
  printAcceptance(setups.filter((s) => all.some((r) => r.setup === s)), all);
  printRunners(setups, all);
  const trips: Array<[string, Awaited<ReturnType<typeof roundTrips>>]> = [
    ["rcpt (no message)", await roundTrips("rcpt", "message", calls, size)],
    [`data, reads "message" (${size} B sent)`, await roundTrips("data", "message", calls, size)],
    [`data, reads "headers" (header block sent)`, await roundTrips("data", "headers", calls, size)],
    [`data, reads "envelope" (nothing sent)`, await roundTrips("data", "envelope", calls, size)],
  ];
  console.log(`\nHook round trip on the host (${calls} sequential calls, after 200 to warm up):\n`);
  printMarkdownTable(
    ["hook context", "p50 ms", "p99 ms", "host CPU µs/call", "plugin CPU µs/call"],
    trips.map((
      [label, t],
    ) => [label, t.p50.toFixed(3), t.p99.toFixed(3), t.hostUs.toFixed(1), t.pluginUs.toFixed(1)]),
  );
}

/** Median of the rounds' figures (rounds without the figure left out), or NaN. */
function medianOf(xs: (number | undefined)[]): number {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length === 0 ? NaN : v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * What a plugin call costs the plugin process, and why: a wake-up (being scheduled in,
 * the event loop turning, a read and a write) costs far more than the call's own work, so
 * the figure that matters is how many calls one wake-up handles.
 */
function printRunners(setups: Setup[], all: Round[]): void {
  const rows = setups.flatMap((s) => {
    const of = all.filter((r) => r.setup === s && r.runnerUsPerCall !== undefined);
    if (of.length === 0) return [];
    const f = (x: number, d = 1) => Number.isNaN(x) ? "-" : x.toFixed(d);
    return [[
      s.label,
      f(medianOf(of.map((r) => r.runnerUsPerCall))),
      f(medianOf(of.map((r) => r.callsPerWake)), 2),
      f(medianOf(of.map((r) => r.wire?.perWrite)), 2),
      f(medianOf(of.map((r) => r.wire?.perRead)), 2),
      f(medianOf(of.map((r) => r.wire?.earlyLate)) * 100, 0),
      f(medianOf(of.map((r) => r.wire?.earlyWaitMs)), 2),
    ]];
  });
  if (rows.length === 0) return;
  console.log(
    `\nPlugin processes at work (medians of the rounds; schedstat, and the host's wire counts):\n`,
  );
  printMarkdownTable([
    "config",
    "plugin CPU µs/call",
    "calls per plugin wake-up",
    "host: calls per write",
    "host: answers per read",
    "early answers late, %",
    "late by, mean ms",
  ], rows);
}

function printAcceptance(setups: Setup[], all: Round[]): void {
  // Medians: one round disturbed by something else on the machine does not move them.
  const of = (s: Setup) => all.filter((r) => r.setup === s);
  const median = (
    s: Setup,
    k: "msgsPerSec" | "cpuMsPerMsg" | "milterCpuMsPerMsg" | "p50" | "p99",
  ) => {
    const xs = of(s).map((r) => r[k]).sort((a, b) => a - b);
    const m = xs.length >> 1;
    return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const base = setups[0];
  const milters = setups.filter((s) => s.server === "postfix" && s.count > 0);
  // denomail against each Postfix + milters row: msgs/s ratio, and CPU per message ratio.
  const versus = (s: Setup) =>
    milters.map((m) =>
      `${(median(s, "msgsPerSec") / median(m, "msgsPerSec")).toFixed(2)}× ` +
      `(CPU ${(median(m, "cpuMsPerMsg") / median(s, "cpuMsPerMsg")).toFixed(2)}×)`
    ).join(" / ");
  const rows = setups.map((s) => {
    const dm = s.server === "denomail" && s !== base;
    // Paired: each round's figure against the same round's baseline (they ran seconds
    // apart, so a change in the machine's other load moves both), then the median.
    const baseOf = of(base);
    const lost = medianOf(of(s).map((r, i) => 1 - r.msgsPerSec / baseOf[i]?.msgsPerSec));
    const lostCpu = 1 - median(base, "cpuMsPerMsg") / median(s, "cpuMsPerMsg");
    const each = s.target?.includes("each") ? ` (${pct(lost / s.count)} each)` : "";
    return [
      s.label,
      median(s, "msgsPerSec").toFixed(0),
      of(s).map((r) => r.msgsPerSec.toFixed(0)).join(" / "),
      median(s, "p50").toFixed(2),
      median(s, "p99").toFixed(2),
      median(s, "cpuMsPerMsg").toFixed(3),
      median(s, "milterCpuMsPerMsg").toFixed(3),
      dm ? pct(lost) + each : "",
      dm ? pct(lostCpu) : "",
      s.server === "denomail" ? versus(s) : "",
      s.target ?? "",
      of(s).reduce((n, r) => n + r.failed, 0).toString(),
    ];
  });
  printMarkdownTable([
    "config",
    "msgs/s (median)",
    "rounds msgs/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/msg",
    "of which plugins/milters",
    "lost vs 0 plugins (paired rounds)",
    "lost if CPU-bound",
    `vs ${milters.map((m) => m.milter === "c" ? "C" : "Python").join(" / ")} milters`,
    "target",
    "failed",
  ], rows);
  console.log(`\n"lost if CPU-bound": the extra CPU per message as a share of the total, which is`);
  console.log(`what throughput loses on a saturated machine (msgs/s swing with other load).`);
  for (const m of milters) {
    const seen = of(m).map((r) => r.milterSeen.join("/")).join(", ");
    console.log(
      `\n${m.label}: the milters used ${median(m, "milterCpuMsPerMsg").toFixed(3)} of its ` +
        `${median(m, "cpuMsPerMsg").toFixed(3)} CPU ms per message; messages each milter ` +
        `saw per round (counted every 100): ${seen}.`,
    );
  }
}
