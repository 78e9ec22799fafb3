/**
 * `deno task bench cluster`: the `bench smtp` workload (SESSIONS concurrent sessions, a new
 * connection per message, 10 KB, synced before the 250) against one node on SQLite, one node
 * on PostgreSQL, and two nodes on one PostgreSQL database (the sessions split between them).
 * PostgreSQL runs with fsync on (a private cluster, tests/lib/postgres.ts). Besides the rates,
 * it shows where the CPU time went: the denomail processes, PostgreSQL's processes, and this
 * process (the load generator) — all on the same machine.
 *
 * @module
 */
import postgres from "postgres";
import { printMarkdownTable } from "./table.ts";
import { type LoadResult, smtpLoad } from "./load.ts";
import { flag } from "./smtp.ts";
import { postgresMissing, startPostgres } from "../tests/lib/postgres.ts";
import { startCluster } from "../tests/lib/cluster.ts";
import { addUserCli, startDenomailProcess } from "../tests/lib/server_process.ts";

const RCPT = "u1@example.test";
const PASSWORD = "bench-password";
const USER: [string, string] = [RCPT, PASSWORD];

/**
 * The recipients u1..uN (`--mailboxes N`): with one (the default, as `bench smtp`) every
 * delivery waits for the same mailbox's lock; with many, the rows show what the nodes do
 * without that one queue.
 */
function recipients(n: number): string[] {
  return Array.from({ length: Math.max(1, n) }, (_, i) => `u${i + 1}@example.test`);
}

interface Opts {
  sessions: number;
  total: number;
  size: number;
  rcpts: string[];
  /** `--unique-bodies`: no two messages share a body (load.ts `uniqueBodies`). */
  uniqueBodies: boolean;
}

interface Row {
  setup: string;
  msgsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU seconds per 1,000 messages. */
  cpu: { denomail: number; postgres: number; loadgen: number };
  /**
   * PostgreSQL: CPU seconds per 1,000 messages (denomail and PostgreSQL) spent after the run
   * until every message's search text was made (the background indexer, search_index.ts).
   */
  indexLater?: number;
  /** PostgreSQL: transactions per message during the run (pg_stat_database). */
  xacts?: { commits: number; rollbacks: number; deadlocks: number };
}

/** The database's transaction counters (pg_stat_database), to show what contention costs. */
async function xactStats(
  url: string,
): Promise<{ commits: number; rollbacks: number; deadlocks: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql`SELECT xact_commit::int AS c, xact_rollback::int AS r,
      deadlocks::int AS d FROM pg_stat_database WHERE datname = current_database()`;
    return { commits: r.c, rollbacks: r.r, deadlocks: r.d };
  } finally {
    await sql.end();
  }
}

/** Waits (deadline 120 s) until the database at `url` has no message left to index. */
async function indexed(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [r] = await sql`SELECT count(*)::int AS n FROM search_pending`;
      if (r.n === 0) return;
      if (Date.now() > deadline) throw new Error(`${r.n} messages still not indexed`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    await sql.end();
  }
}

/** CPU seconds (user + system) of a process, from /proc (0 when it is gone). */
export function cpuOf(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of the private cluster listening on `port`: its postmaster (started with
 * `-c port=PORT`) and the postmaster's children — not the other PostgreSQL servers that may
 * run on this shared machine.
 */
export function postgresCpu(port: number): number {
  const procs: Array<{ pid: number; ppid: number; cmd: string }> = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/comm`).trim() !== "postgres") continue;
      const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      procs.push({ pid: Number(e.name), ppid, cmd });
    } catch { /* gone */ }
  }
  const master = procs.find((p) =>
    p.cmd.includes(`port=${port} `) || p.cmd.endsWith(`port=${port}`)
  );
  if (!master) return 0;
  return procs.filter((p) => p.pid === master.pid || p.ppid === master.pid)
    .reduce((s, p) => s + cpuOf(p.pid), 0);
}

/** Runs the load over `ports` (sessions split evenly), warm-up first; measures CPU too. */
async function measure(
  setup: string,
  ports: number[],
  pids: number[],
  opts: Opts,
  pgUrl = "",
): Promise<Row> {
  const pgPort = pgUrl ? Number(new URL(pgUrl).port) : 0;
  const run = (total: number) =>
    Promise.all(ports.map((port) =>
      smtpLoad({
        port,
        sessions: Math.max(1, Math.round(opts.sessions / ports.length)),
        total: Math.round(total / ports.length),
        size: opts.size,
        rcpt: RCPT,
        rcpts: opts.rcpts,
        uniqueBodies: opts.uniqueBodies,
      })
    ));
  await run(Math.min(200, opts.total));
  if (pgUrl) await indexed(pgUrl); // the run starts with nothing left to index
  const cpu0 = {
    denomail: pids.reduce((s, p) => s + cpuOf(p), 0),
    postgres: pgPort ? postgresCpu(pgPort) : 0,
    loadgen: cpuOf(Deno.pid),
  };
  const x0 = pgUrl ? await xactStats(pgUrl) : null;
  const t0 = performance.now();
  const results: LoadResult[] = await run(opts.total);
  const seconds = (performance.now() - t0) / 1000;
  const per1000 = (x: number) => x / (opts.total / 1000);
  const cpu = {
    denomail: per1000(pids.reduce((s, p) => s + cpuOf(p), 0) - cpu0.denomail),
    postgres: per1000((pgPort ? postgresCpu(pgPort) : 0) - cpu0.postgres),
    loadgen: per1000(cpuOf(Deno.pid) - cpu0.loadgen),
  };
  let xacts: Row["xacts"];
  if (x0) {
    const x1 = await xactStats(pgUrl);
    const per = (a: number, b: number) => (a - b) / opts.total;
    xacts = {
      commits: per(x1.commits, x0.commits),
      rollbacks: per(x1.rollbacks, x0.rollbacks),
      deadlocks: x1.deadlocks - x0.deadlocks,
    };
  }
  let indexLater: number | undefined;
  if (pgUrl) {
    const before = pids.reduce((s, p) => s + cpuOf(p), 0) + postgresCpu(pgPort);
    await indexed(pgUrl);
    indexLater = per1000(pids.reduce((s, p) => s + cpuOf(p), 0) + postgresCpu(pgPort) - before);
  }
  const sent = results.reduce((s, r) => s + r.sent, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  for (const r of results) if (r.failed > 0) console.error(`${setup}: ${r.firstError}`);
  return {
    setup,
    msgsPerSec: sent / seconds,
    // Per-port percentiles; the slowest port's is shown.
    p50: Math.max(...results.map((r) => r.p50Ms)),
    p99: Math.max(...results.map((r) => r.p99Ms)),
    failed,
    cpu,
    indexLater,
    xacts,
  };
}

export async function benchCluster(args: string[]): Promise<void> {
  const sessions = Number(flag(args, "--sessions") ?? 20);
  const total = Number(flag(args, "--messages") ?? 2000);
  const size = Number(flag(args, "--size") ?? 10240);
  const rcpts = recipients(Number(flag(args, "--mailboxes") ?? 1));
  const uniqueBodies = args.includes("--unique-bodies");
  const opts: Opts = { sessions, total, size, rcpts, uniqueBodies };
  // --only sqlite,pg1,pg2: the setups to run (all by default), for repeated paired runs.
  const only = new Set((flag(args, "--only") ?? "sqlite,pg1,pg2").split(","));
  console.log(`SMTP acceptance on one and two nodes: ${total} messages x ${size} B,`);
  console.log(
    `${sessions} concurrent sessions, a new connection per message, synced before 250,\n` +
      `to ${rcpts.length === 1 ? "one mailbox" : `${rcpts.length} mailboxes in turn`}, ` +
      `${uniqueBodies ? "each message a body of its own" : "every message the same body"}.\n`,
  );
  const rows: Row[] = [];

  if (only.has("sqlite")) await measureSqlite(rows, opts);
  const missing = postgresMissing();
  if (missing) {
    console.log(`PostgreSQL rows skipped: ${missing}`);
  } else {
    for (const names of [["a"], ["a", "b"]]) {
      if (!only.has(`pg${names.length}`)) continue;
      const pg = await startPostgres({ durable: true });
      const users = rcpts.map((r): [string, string] => [r, PASSWORD]);
      const cluster = await startCluster({ pg, names, listen: ["smtp"], users });
      try {
        rows.push(
          await measure(
            `PostgreSQL, ${names.length} node${names.length > 1 ? "s" : ""}`,
            cluster.nodes.map((n) => n.port("smtp")),
            cluster.nodes.map((n) => n.proc.child.pid),
            opts,
            pg.url,
          ),
        );
      } finally {
        await cluster.stop();
      }
    }
  }
  printTable(rows);
}

async function measureSqlite(rows: Row[], opts: Opts): Promise<void> {
  const sqlite = await startDenomailProcess({
    prefix: "bench-cluster-sqlite-",
    listen: ["smtp"],
    user: USER,
  });
  try {
    for (const r of opts.rcpts.slice(1)) await addUserCli(sqlite.configPath, r, PASSWORD);
    rows.push(
      await measure("SQLite, 1 node", [sqlite.proc.ports.smtp], [sqlite.proc.child.pid], opts),
    );
  } finally {
    await sqlite.stop();
  }
}

function printTable(rows: Row[]): void {
  const byName = new Map(rows.map((r) => [r.setup, r]));
  const ratio = (a?: Row, b?: Row) => a && b ? (a.msgsPerSec / b.msgsPerSec).toFixed(2) : "";
  printMarkdownTable(
    [
      "setup",
      "msgs/s",
      "p50 ms",
      "p99 ms",
      "failed",
      "CPU s/1000 msgs: denomail",
      "postgres",
      "load generator",
      "search index, after",
      "transactions/msg: commits / rollbacks (deadlocks)",
    ],
    rows.map((r) => [
      r.setup,
      r.msgsPerSec.toFixed(0),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      String(r.failed),
      r.cpu.denomail.toFixed(2),
      r.cpu.postgres.toFixed(2),
      r.cpu.loadgen.toFixed(2),
      r.indexLater === undefined ? "" : r.indexLater.toFixed(2),
      r.xacts
        ? `${r.xacts.commits.toFixed(2)} / ${r.xacts.rollbacks.toFixed(3)} (${r.xacts.deadlocks})`
        : "",
    ]),
  );
  const sq = byName.get("SQLite, 1 node");
  const p1 = byName.get("PostgreSQL, 1 node");
  const p2 = byName.get("PostgreSQL, 2 nodes");
  console.log(
    `\nPostgreSQL 1 node / SQLite 1 node: ${ratio(p1, sq)} (goal >= 0.8); ` +
      `PostgreSQL 2 nodes / 1 node: ${ratio(p2, p1)} (goal >= 1.6).`,
  );
  console.log(
    "Every process shares this machine's cores: on 2 cores two nodes, PostgreSQL and the load" +
      "\ngenerator compete for the same CPU, so the second node cannot add capacity here; the" +
      "\nCPU columns show where the time goes.",
  );
  console.log(
    "Search index, after: the CPU (denomail + PostgreSQL) the background indexer spent after" +
      "\nthe run making the messages' search text (it yields to deliveries; SQLite defers its" +
      "\nFTS indexing the same way, not measured here).",
  );
}
