/**
 * `deno task bench imap`: the IMAP server under load, side by side with Dovecot.
 *
 * 1. Mixed load: Dovecot's imaptest stress mode (`users=10 clients=10`, its default command
 *    mix: LOGIN, LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE, APPEND, LOGOUT, mailboxes fed
 *    from one generated mbox), against denomail on SQLite, denomail on PostgreSQL (a private
 *    cluster, fsync on; skipped when PostgreSQL is not installed) and Dovecot
 *    (../shared/peers/dovecot-start.sh) in the same run. Without imaptest, the python
 *    imaplib load of ../shared/peers/imap-bench.sh instead.
 * 2. 10,000 idle IDLE connections, opened by a client in another process; the server
 *    process's resident memory is read from /proc, and a delivery is timed to one of them.
 * 3. A 100,000-message mailbox built through the Store: SELECT time and SEARCH TEXT time.
 *
 * Options: --secs N (stress duration, 30), --idle N (10000), --messages N (100000),
 * --skip stress,idle,big, --servers sqlite,postgres,dovecot (which the stress runs on, all by
 * default), --rounds N (1: each server's stress runs N times, the servers taking turns, so
 * that a shared machine's changing load falls on all alike; the figures are the totals),
 * --pg-stats (prints PostgreSQL's top statements by total time after its stress run,
 * from pg_stat_statements).
 *
 * @module
 */
import { printMarkdownTable } from "./table.ts";
import { join } from "node:path";
import { hashPassword } from "../core/auth.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { openPostgresStore } from "../storage/postgres/store.ts";
import { connect } from "../storage/postgres/rows.ts";
import { postgresMissing, startPostgres } from "../tests/lib/postgres.ts";
import { RawImap } from "../tests/imap_helpers.ts";
import { configToml, startServerProcess } from "../tests/lib/server_process.ts";
import { freePort } from "./peers.ts";
import { flag } from "./smtp.ts";
import { cpuOf, postgresCpu } from "./cluster.ts";

const PEERS = new URL("../../shared/peers/", import.meta.url).pathname;
const USERS = 10;
const PASSWORD = "bench-password";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One line of the final table. */
interface Row {
  what: string;
  denomail: string;
  dovecot: string;
  target: string;
  ok: string;
}

async function sh(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function has(cmd: string): Promise<boolean> {
  return (await sh("bash", ["-c", `command -v ${cmd}`])).code === 0;
}

// --- denomail as its own process ---

interface Denomail {
  port: number;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Writes a config, fills the store with `prepare`, then starts `main.ts serve`.
 * `storage`: TOML of another backend (`[storage] backend = "postgres"`), else SQLite.
 */
async function startDenomail(
  prepare: (dbPath: string) => Promise<void>,
  storage = "",
): Promise<Denomail> {
  const dir = await Deno.makeTempDir({ prefix: "bench-imap-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(
    configPath,
    configToml(`${dir}/data`, ["imap"], {
      hostname: "bench.example.test",
      tables: `[limits]\nmax_connections = 30000\nmax_connections_per_ip = 30000\n` +
        `max_imap_connections_per_user = 30000\n` + storage,
    }),
  );
  await prepare(join(dir, "data", "denomail.db"));
  const proc = await startServerProcess(configPath, ["imap"], 120_000);
  return {
    port: proc.ports.imap,
    pid: proc.child.pid,
    dir,
    async stop() {
      await proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Accounts u1..uN@example.test (one password hash for all: hashing is slow on purpose). */
async function addUsers(dbPath: string, n = USERS, pgUrl?: string): Promise<void> {
  const store = pgUrl ? await openPostgresStore(pgUrl) : await openSqliteStore(dbPath);
  try {
    const hash = await hashPassword(PASSWORD);
    for (let i = 1; i <= n; i++) await store.createAccount(`u${i}@example.test`, hash);
  } finally {
    await store.close();
  }
}

// --- 1. imaptest stress ---

/** The mbox imaptest appends from: 200 plain messages of 0.5-5 KB. */
async function writeMbox(path: string): Promise<void> {
  const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");
  let seed = 1;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  let out = "";
  for (let i = 0; i < 200; i++) {
    const lines: string[] = [];
    const n = 5 + rnd(76);
    for (let l = 0; l < n; l++) {
      lines.push(Array.from({ length: 12 }, () => words[rnd(words.length)]).join(" "));
    }
    const date = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toUTCString().replace("GMT", "+0000");
    out += `From s${i}@example.test Mon Jan  1 00:00:00 2024\n` +
      `From: s${i}@example.test\nTo: u1@example.test\nSubject: m ${i}\nDate: ${date}\n` +
      `Message-ID: <g${i}@example.test>\n\n${lines.join("\n")}\n\n`;
  }
  await Deno.writeTextFile(path, out);
}

interface StressResult {
  commandsPerSec: number;
  errors: number;
  tool: string;
  /** Server CPU per command, ms (every process of the server), when measured. */
  cpuMs?: number;
}

/**
 * CPU seconds of a process, the children it reaped (Dovecot's ended imap processes) and its
 * live children, from /proc.
 */
function treeCpu(pid: number): number {
  let total = 0;
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    total += (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (reaped children)
  } catch { /* gone */ }
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`).split(") ")[1].split(" ");
      if (Number(e.name) === pid || Number(f[1]) === pid) total += cpuOf(Number(e.name));
    } catch { /* gone */ }
  }
  return total;
}

/** imaptest stress (or the python fallback) against one server. */
async function stress(
  port: number,
  user: string,
  pass: string,
  secs: number,
  mbox: string,
): Promise<StressResult> {
  if (await has("imaptest")) {
    const r = await sh("imaptest", [
      "host=127.0.0.1",
      `port=${port}`,
      `user=${user}`,
      `pass=${pass}`,
      `users=${USERS}`,
      "clients=10",
      `secs=${secs}`,
      `mbox=${mbox}`,
    ]);
    const text = r.stdout + r.stderr;
    const lines = text.split("\n");
    const at = lines.findLastIndex((l) => l.startsWith("Totals"));
    if (at < 0) throw new Error(`imaptest printed no totals:\n${text.slice(-2000)}`);
    const counts = lines.slice(at + 2).filter((l) => /^\s*\d/.test(l)).pop()!.trim().split(/\s+/);
    const total = counts.reduce((n, c) => n + Number(c), 0);
    const errors = lines.filter((l) => /^Error: /.test(l)).length;
    if (errors > 0) {
      console.error(`imaptest reported ${errors} errors on port ${port}; first:`);
      console.error(lines.filter((l) => /^Error: /.test(l)).slice(0, 5).join("\n"));
    }
    return { commandsPerSec: total / secs, errors, tool: "imaptest" };
  }
  const r = await sh("bash", [
    `${PEERS}imap-bench.sh`,
    "127.0.0.1",
    String(port),
    user.replace("%d", "1"),
    pass,
    String(secs),
    "10",
  ]);
  // imap-bench.py prints "sessions=N (R/s)"; each session is LOGIN, SELECT, FETCH 1:100, LOGOUT.
  const m = /sessions=\d+ \((\d+(?:\.\d+)?)\/s\)/.exec(r.stdout);
  if (!m) throw new Error(`imap-bench.sh: ${r.stdout}\n${r.stderr}`);
  return { commandsPerSec: Math.round(Number(m[1]) * 4), errors: 0, tool: "imaplib" };
}

/** Dovecot from ../shared/peers, or null when it is not installed. */
async function startDovecot(): Promise<
  { port: number; pid: number; stop(): Promise<void> } | null
> {
  if (!(await has("dovecot"))) return null;
  const port = freePort();
  const pop = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-dovecot-" });
  await Deno.chmod(dir, 0o755);
  // The daemon keeps the script's stdout open: read its output from a file, not a pipe.
  const out = join(dir, "start.out");
  const r = await sh("bash", [
    "-c",
    `bash "${PEERS}dovecot-start.sh" ${port} ${pop} "${dir}" ${USERS} > "${out}" 2>&1`,
  ]);
  const text = await Deno.readTextFile(out).catch(() => "");
  if (r.code !== 0) {
    console.error(`dovecot did not start: ${text.trim().split("\n").pop()}`);
    return null;
  }
  const pid = text.trim().split("\n").pop()!;
  return {
    port,
    pid: Number(pid),
    async stop() {
      await sh("bash", [
        "-c",
        `kill ${pid}; for i in $(seq 50); do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.1; done`,
      ]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Clears pg_stat_statements (the cluster was started with it preloaded). */
async function pgStatReset(url: string): Promise<void> {
  const db = connect(url, { max: 1 });
  try {
    await db.unsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await db.unsafe("SELECT pg_stat_statements_reset()");
  } finally {
    await db.end();
  }
}

/** The 25 statements with the most total time: calls, ms total, text. */
async function pgStatPrint(url: string): Promise<void> {
  const db = connect(url, { max: 1 });
  try {
    const rows = await db.unsafe(
      "SELECT calls, total_exec_time AS ms, query FROM pg_stat_statements " +
        "ORDER BY total_exec_time DESC LIMIT 25",
    );
    console.log("pg_stat_statements, every round:");
    for (const r of rows) {
      const calls = Number(r.calls);
      console.log(
        `${String(calls).padStart(8)} ${Number(r.ms).toFixed(0).padStart(7)} ms  ` +
          String(r.query).replace(/\s+/g, " ").slice(0, 150),
      );
    }
  } finally {
    await db.end();
  }
}

/** One server under stress: how to reach it, its CPU, and how to stop it. */
interface Target {
  name: "sqlite" | "postgres" | "dovecot";
  port: number;
  user: string;
  pass: string;
  /** CPU seconds of all its processes (PostgreSQL's too). */
  cpu(): number;
  /** Of those, PostgreSQL's. */
  pgCpu?(): number;
  stop(): Promise<void>;
}

/** Starts the PostgreSQL-backed server (and its cluster); its CPU counts both. */
async function startOnPostgres(pgStats: boolean): Promise<Target> {
  const pg = await startPostgres({
    durable: true,
    settings: pgStats ? { shared_preload_libraries: "pg_stat_statements" } : {},
  });
  try {
    const dm = await startDenomail(
      (path) => addUsers(path, USERS, pg.url),
      `[storage]\nbackend = "postgres"\nurl = "${pg.url}"\n`,
    );
    if (pgStats) await pgStatReset(pg.url);
    const pgPort = Number(new URL(pg.url).port);
    return {
      name: "postgres",
      port: dm.port,
      user: "u%d@example.test",
      pass: PASSWORD,
      cpu: () => treeCpu(dm.pid) + postgresCpu(pgPort),
      pgCpu: () => postgresCpu(pgPort),
      async stop() {
        try {
          if (pgStats) await pgStatPrint(pg.url);
          await dm.stop();
        } finally {
          await pg.stop();
        }
      },
    };
  } catch (e) {
    await pg.stop();
    throw e;
  }
}

/**
 * imaptest stress on each asked-for server, `rounds` times in turn; per server the totals
 * (commands/s over all its rounds, errors, CPU per command). `pgCpuMs`: PostgreSQL's own
 * share of the PostgreSQL-backed server's CPU per command.
 */
async function stressAll(
  servers: Set<string>,
  secs: number,
  rounds: number,
  pgStats: boolean,
): Promise<Record<Target["name"], StressResult | null> & { pgCpuMs: number }> {
  const mbox = await Deno.makeTempFile({ suffix: ".mbox" });
  await writeMbox(mbox);
  // Each turn starts its server afresh and stops it after (a stopped server's background
  // work — SQLite's indexer, PostgreSQL's autovacuum — must not fall on the next turn).
  const starts: Array<() => Promise<Target | null>> = [];
  if (servers.has("sqlite")) {
    starts.push(async () => {
      const dm = await startDenomail((path) => addUsers(path));
      return {
        name: "sqlite",
        port: dm.port,
        user: "u%d@example.test",
        pass: PASSWORD,
        cpu: () => treeCpu(dm.pid),
        stop: () => dm.stop(),
      };
    });
  }
  // The same on PostgreSQL: a private cluster (fsync on), one node.
  const pgMissing = postgresMissing();
  if (servers.has("postgres") && pgMissing) {
    console.log(`stress on PostgreSQL skipped: ${pgMissing}`);
  } else if (servers.has("postgres")) starts.push(() => startOnPostgres(pgStats));
  if (servers.has("dovecot")) {
    starts.push(async () => {
      const dc = await startDovecot();
      if (!dc) return null;
      return {
        name: "dovecot",
        port: dc.port,
        user: "u%d",
        pass: "pass",
        cpu: () => treeCpu(dc.pid),
        stop: () => dc.stop(),
      };
    });
  }
  console.log(
    `stress: ${USERS} users, 10 clients, ${secs} s per server and round, ${rounds} round(s)`,
  );
  const sums = new Map<string, { commands: number; errors: number; cpu: number }>();
  let pgOwn = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const start of starts) {
        const t = await start();
        if (!t) continue;
        try {
          const [cpu0, pg0] = [t.cpu(), t.pgCpu?.() ?? 0];
          const r = await stress(t.port, t.user, t.pass, secs, mbox);
          const cpu = t.cpu() - cpu0;
          pgOwn += (t.pgCpu?.() ?? 0) - pg0;
          const sum = sums.get(t.name) ?? { commands: 0, errors: 0, cpu: 0 };
          sum.commands += r.commandsPerSec * secs;
          sum.errors += r.errors;
          sum.cpu += cpu;
          sums.set(t.name, sum);
          console.log(`  round ${round + 1} ${t.name}: ${r.commandsPerSec.toFixed(0)} commands/s`);
        } finally {
          await t.stop();
        }
      }
    }
    const result = (name: Target["name"]): StressResult | null => {
      const sum = sums.get(name);
      if (!sum) return null;
      return {
        commandsPerSec: sum.commands / (secs * rounds),
        errors: sum.errors,
        tool: "imaptest",
        cpuMs: sum.cpu * 1000 / sum.commands,
      };
    };
    const pgCommands = sums.get("postgres")?.commands ?? NaN;
    return {
      sqlite: result("sqlite"),
      postgres: result("postgres"),
      dovecot: result("dovecot"),
      pgCpuMs: pgOwn * 1000 / pgCommands,
    };
  } finally {
    await Deno.remove(mbox).catch(() => {});
  }
}

// --- 2. idle IDLE connections ---

/** Resident set size of a process, in bytes (Linux /proc). */
async function rss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * The client side (run as `bench/imap.ts --idle-client PORT N USERS PASS`): opens N
 * connections, connection i as user u(i mod USERS + 1), each LOGIN, SELECT INBOX, IDLE;
 * prints "ready" once all idle; then for each "time" line on stdin prints "exists MS": the
 * ms until the first connection (u1) reports a new EXISTS.
 */
async function idleClient(port: number, n: number, users: number, pass: string): Promise<void> {
  const conns: RawImap[] = new Array(n);
  const open = async (i: number) => {
    const c = await RawImap.login(port, `u${(i % users) + 1}@example.test`, pass);
    const sel = await c.command("SELECT INBOX");
    if (!/ OK /.test(sel.tagged)) throw new Error(sel.tagged);
    await c.write("i IDLE\r\n");
    const cont = await c.readLine();
    if (!cont?.startsWith("+")) throw new Error(`IDLE: ${cont}`);
    conns[i] = c;
  };
  const PARALLEL = 100;
  for (let i = 0; i < n; i += PARALLEL) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, n - i) }, (_, k) => open(i + k)));
  }
  console.log("ready");
  const first = conns[0];
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of lines) {
    for (const _ of chunk.matchAll(/time/g)) {
      const t0 = performance.now();
      for (;;) {
        const l = await first.readLine();
        if (l === null || / EXISTS$/.test(l)) break;
      }
      console.log(`exists ${(performance.now() - t0).toFixed(1)}`);
    }
  }
  for (const c of conns) c.close();
}

interface IdleResult {
  connections: number;
  users: number;
  rssBefore: number;
  rssIdle: number;
  /** APPEND -> EXISTS at the client, ms, one per delivery. */
  deliveryMs: number[];
}

/** N IDLE connections spread over `users` accounts (users / N on each INBOX). */
async function benchIdle(n: number, users: number): Promise<IdleResult> {
  const dm = await startDenomail((path) => addUsers(path, users));
  try {
    const rssBefore = await rss(dm.pid);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--idle-client",
        String(dm.port),
        String(n),
        String(users),
        PASSWORD,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const waitFor = async (re: RegExp, count: number) => {
      while ([...buf.matchAll(re)].length < count) {
        const { value, done } = await out.read();
        if (done) throw new Error(`idle client ended before ${re}`);
        buf += value;
      }
    };
    await waitFor(/ready/g, 1);
    // Let the server settle (GC), then read its memory with every connection idling.
    await new Promise((r) => setTimeout(r, 2000));
    const rssIdle = await rss(dm.pid);
    // Deliveries to u1: how long until one of its idling clients hears of each.
    const c = await RawImap.login(dm.port, "u1@example.test", PASSWORD);
    const w = child.stdin.getWriter();
    const msg = "Subject: ping\r\n\r\nping\r\n";
    for (let k = 1; k <= 5; k++) {
      await w.write(enc.encode("time\n"));
      await c.write(`a${k} APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
      await c.until(`a${k}`);
      await waitFor(/exists [\d.]+/g, k);
    }
    c.close();
    const deliveryMs = [...buf.matchAll(/exists ([\d.]+)/g)].map((m) => Number(m[1]));
    await w.close();
    await child.status;
    return { connections: n, users, rssBefore, rssIdle, deliveryMs };
  } finally {
    await dm.stop();
  }
}

// --- 3. a 100,000-message mailbox ---

interface BigResult {
  messages: number;
  buildSec: number;
  selectMs: number[];
  searchMs: number[];
  searchHits: number;
}

/** Builds the mailbox through the store: small messages, one rare word in a few of them. */
export async function buildBig(dbPath: string, total: number): Promise<number> {
  const store = await openSqliteStore(dbPath);
  const t0 = performance.now();
  try {
    const hash = await hashPassword(PASSWORD);
    const account = await store.createAccount("big@example.test", hash);
    await store.createMailbox(account.id, "Big");
    const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda".split(" ");
    const BATCH = 1000;
    for (let i = 0; i < total; i += BATCH) {
      const writes: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(total, i + BATCH); j++) {
        const body = Array.from({ length: 40 }, (_, k) => words[(j * 7 + k * 3) % words.length])
          .join(" ") + (j % 10_000 === 5 ? " needle-in-haystack" : "");
        const msg = `From: sender${j % 500}@example.test\r\nTo: big@example.test\r\n` +
          `Subject: message ${j}\r\nMessage-ID: <big${j}@example.test>\r\n\r\n${body}\r\n`;
        writes.push(
          store.deliver(enc.encode(msg), [{ accountId: account.id, mailbox: "Big" }], {
            internalDate: Date.UTC(2024, 0, 1) + j * 1000,
          }),
        );
      }
      await Promise.all(writes);
    }
    await store.flushTextIndex();
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}

async function benchBig(total: number): Promise<BigResult> {
  let buildSec = 0;
  const dm = await startDenomail(async (path) => {
    buildSec = await buildBig(path, total);
  });
  try {
    const c = await RawImap.login(dm.port, "big@example.test", PASSWORD);
    const selectMs: number[] = [];
    const searchMs: number[] = [];
    let searchHits = 0;
    for (let i = 0; i < 5; i++) {
      let t0 = performance.now();
      const sel = await c.command("SELECT Big");
      selectMs.push(performance.now() - t0);
      if (!sel.lines.includes(`* ${total} EXISTS`)) throw new Error(sel.lines.join("\n"));
      t0 = performance.now();
      const s = await c.command("SEARCH TEXT needle-in-haystack");
      searchMs.push(performance.now() - t0);
      searchHits = s.lines[0].split(" ").length - 2;
    }
    c.close();
    return { messages: total, buildSec, selectMs, searchMs, searchHits };
  } finally {
    await dm.stop();
  }
}

// --- the run ---

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

export async function benchImap(args: string[]): Promise<void> {
  const secs = Number(flag(args, "--secs") ?? 30);
  const idleN = Number(flag(args, "--idle") ?? 10_000);
  const bigN = Number(flag(args, "--messages") ?? 100_000);
  const skip = new Set((flag(args, "--skip") ?? "").split(",").filter(Boolean));
  const servers = new Set(
    (flag(args, "--servers") ?? "sqlite,postgres,dovecot").split(",").filter(Boolean),
  );
  const pgStats = args.includes("--pg-stats");
  const rounds = Number(flag(args, "--rounds") ?? 1);
  const rows: Row[] = [];

  if (!skip.has("stress")) {
    const r = await stressAll(servers, secs, rounds, pgStats);
    const { sqlite: ours, postgres: onPg, dovecot: theirs } = r;
    const each = rounds > 1 ? `, ${rounds} interleaved rounds` : "";
    if (ours) {
      const ratio = theirs ? ours.commandsPerSec / theirs.commandsPerSec : NaN;
      rows.push({
        what: `${ours.tool} stress commands/s (users=10 clients=10 secs=${secs}${each})`,
        denomail: ours.commandsPerSec.toFixed(0),
        dovecot: theirs ? theirs.commandsPerSec.toFixed(0) : "-",
        target: "≥ 1.0× Dovecot",
        ok: theirs ? `${ratio.toFixed(2)}×` : "-",
      });
    }
    if (onPg) {
      rows.push({
        what: `${onPg.tool} stress commands/s on PostgreSQL (one node${each})`,
        denomail: onPg.commandsPerSec.toFixed(0),
        dovecot: theirs ? theirs.commandsPerSec.toFixed(0) : "-",
        target: "≥ 1.0× Dovecot",
        ok: theirs ? `${(onPg.commandsPerSec / theirs.commandsPerSec).toFixed(2)}×` : "-",
      });
    }
    const ms = (r: StressResult | null) => r?.cpuMs === undefined ? "-" : r.cpuMs.toFixed(2);
    rows.push({
      what: "server CPU per command, ms (denomail SQLite / PostgreSQL: denomail + PostgreSQL)",
      denomail: `${ms(ours)} / ${ms(onPg)} (${
        onPg ? `${(onPg.cpuMs! - r.pgCpuMs).toFixed(2)} + ${r.pgCpuMs.toFixed(2)}` : "-"
      })`,
      dovecot: ms(theirs),
      target: "-",
      ok: "-",
    });
    const errs = [ours, onPg].filter((r) => r !== null).map((r) => r!.errors);
    rows.push({
      what: `${(ours ?? onPg ?? theirs)?.tool ?? "imaptest"} stress errors (denomail: ${
        [ours && "SQLite", onPg && "PostgreSQL"].filter(Boolean).join(" + ")
      })`,
      denomail: errs.map(String).join(" + ") || "-",
      dovecot: theirs ? String(theirs.errors) : "-",
      target: "0",
      ok: errs.every((n) => n === 0) ? "yes" : "no",
    });
  }

  if (!skip.has("idle")) {
    for (const users of [100, 1]) {
      console.log(`idle: ${idleN} IDLE connections over ${users} mailbox(es) ...`);
      const r = await benchIdle(idleN, users);
      const per = r.connections / r.users;
      if (users > 1) {
        rows.push({
          what: `server RSS, ${r.connections} connections in IDLE (idle server: ${
            mb(r.rssBefore)
          })`,
          denomail: mb(r.rssIdle),
          dovecot: "-",
          target: "< 1 GB",
          ok: r.rssIdle < 1024 ** 3 ? "yes" : "no",
        });
      }
      const ms = median(r.deliveryMs);
      rows.push({
        what: `APPEND -> EXISTS at an idling client, ${per} idling on that mailbox ` +
          `(median of ${r.deliveryMs.length})`,
        denomail: `${ms.toFixed(1)} ms`,
        dovecot: "-",
        target: users > 1 ? "< 100 ms" : "(worst case)",
        ok: users > 1 ? (ms < 100 ? "yes" : "no") : "-",
      });
    }
  }

  if (!skip.has("big")) {
    console.log(`big: building a ${bigN}-message mailbox through the store ...`);
    const r = await benchBig(bigN);
    console.log(`  built and indexed in ${r.buildSec.toFixed(1)} s`);
    const sel = median(r.selectMs);
    const search = median(r.searchMs);
    rows.push({
      what: `SELECT of ${r.messages} messages (median of 5; first ${r.selectMs[0].toFixed(0)} ms)`,
      denomail: `${sel.toFixed(0)} ms`,
      dovecot: "-",
      target: "< 200 ms",
      ok: sel < 200 ? "yes" : "no",
    });
    rows.push({
      what: `SEARCH TEXT on it (${r.searchHits} hits; median of 5)`,
      denomail: `${search.toFixed(0)} ms`,
      dovecot: "-",
      target: "< 100 ms",
      ok: search < 100 ? "yes" : "no",
    });
  }
  printTable(rows);
}

function printTable(rows: Row[]): void {
  const header = ["measure", "denomail", "Dovecot", "target", "met"];
  const lines = rows.map((r) => [r.what, r.denomail, r.dovecot, r.target, r.ok]);
  console.log();
  printMarkdownTable(header, lines);
}

if (import.meta.main && Deno.args[0] === "--idle-client") {
  const [, port, n, users, pass] = Deno.args;
  await idleClient(Number(port), Number(n), Number(users), pass);
}
