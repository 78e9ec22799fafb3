/**
 * `deno task bench backup [--messages N] [--size BYTES] [--users U]`: time and peak memory
 * (RSS) of `backup`, `restore` and `verify` on a store of N generated messages (`corpus.ts`,
 * default 100,000 of ~4 KB over 100 users), each run as the CLI an admin runs (a separate
 * process; its peak RSS is VmHWM from /proc, read until it exits).
 *
 * @module
 */
import { join } from "node:path";
import { generateMessages } from "./corpus.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { printMarkdownTable } from "./table.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench backup: ${name} must be a positive number`);
    Deno.exit(2);
  }
  return v;
}

/** Fills a data dir: `count` messages spread over `users` accounts, 32 deliveries in flight. */
async function fill(dataDir: string, count: number, size: number, users: number) {
  const store = await openSqliteStore(join(dataDir, "denomail.db"));
  try {
    await store.addDomain("bench.test");
    const ids: number[] = [];
    for (let u = 0; u < users; u++) {
      ids.push((await store.createAccount(`user${u}@bench.test`, "x")).id);
    }
    const enc = new TextEncoder();
    const inFlight = new Set<Promise<unknown>>();
    let i = 0;
    for (const m of generateMessages(count, { size })) {
      const p = store.deliver(enc.encode(m.replaceAll("\n", "\r\n")), [
        { accountId: ids[i++ % users], mailbox: "INBOX", flags: i % 3 ? ["\\Seen"] : [] },
      ]);
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 32) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await store.close();
  }
}

/** Runs the CLI; returns wall seconds and peak RSS in MB. */
async function measure(args: string[]): Promise<{ seconds: number; rssMb: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let hwm = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        const s = await Deno.readTextFile(`/proc/${child.pid}/status`);
        const kb = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
        if (kb > hwm) hwm = kb;
      } catch { /* exited */ }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const out = await child.output();
  done = true;
  await poll;
  if (!out.success) {
    throw new Error(`${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { seconds: (performance.now() - t0) / 1000, rssMb: hwm / 1024 };
}

export async function benchBackup(args: string[]): Promise<void> {
  const count = flag(args, "--messages", 100_000);
  const size = flag(args, "--size", 4096);
  const users = flag(args, "--users", 100);
  const dir = await Deno.makeTempDir({ prefix: "denomail-bench-backup-" });
  try {
    const data = join(dir, "data");
    const config = join(dir, "denomail.toml");
    await Deno.writeTextFile(config, `data_dir = "${data}"\n`);
    const t0 = performance.now();
    await fill(data, count, size, users);
    const fillS = (performance.now() - t0) / 1000;
    const dbMb = Deno.statSync(join(data, "denomail.db")).size / 1e6;
    const archive = join(dir, "bench.backup");
    const rows: string[][] = [];
    const row = (what: string, r: { seconds: number; rssMb: number }) =>
      rows.push([what, r.seconds.toFixed(1), r.rssMb.toFixed(0)]);
    row("backup", await measure(["backup", "--out", archive, "--config", config]));
    const archiveMb = Deno.statSync(archive).size / 1e6;
    row(
      "restore (with its verify)",
      await measure(["restore", archive, "--data-dir", join(dir, "restored")]),
    );
    row("verify", await measure(["verify", "--config", config]));
    console.log(
      `backup/restore/verify: ${count} messages of ~${size} octets over ${users} users ` +
        `(filled in ${fillS.toFixed(0)} s); database ${dbMb.toFixed(0)} MB, archive ` +
        `${archiveMb.toFixed(0)} MB; CLI processes on this (shared) machine`,
    );
    printMarkdownTable(["command", "seconds", "peak RSS MB"], rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
