/**
 * `deno task bench index [--messages N] [--size BYTES]`: how fast the full-text index for
 * IMAP SEARCH is built, on generated ~10 KB messages (`corpus.ts`):
 *
 * - **background**: N messages delivered as fast as the store takes them, then the time
 *   until the background indexer has caught up (the rate is messages per second of that
 *   wait; the issue-13 target is 100,000 searchable within 60 s, ≥ 1,667/s);
 * - **import**: N messages appended the way `import` does (32 in flight, an indexing pass
 *   after every 1,000), messages per second including the indexing.
 *
 * CPU milliseconds per message (this process, worker thread included) are printed too:
 * on a shared machine they say more than wall time.
 *
 * @module
 */
import { join } from "node:path";
import { generateMessages } from "./corpus.ts";
import type { Mailbox } from "../storage/mod.ts";
import { openSqliteStore, type SqliteStore } from "../storage/sqlite/store.ts";

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench index: ${name} must be a positive number`);
    Deno.exit(2);
  }
  return v;
}

/** CPU ms of this process (all threads) from /proc, or NaN without /proc. */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ = 100
  } catch {
    return NaN;
  }
}

/** Waits until the store's index backlog is empty; polls every 50 ms. */
async function caughtUp(store: SqliteStore): Promise<void> {
  while (await store.textIndexBacklog() > 0) await new Promise((r) => setTimeout(r, 50));
}

interface Row {
  phase: string;
  messages: number;
  seconds: number;
  perSec: number;
  cpuMsPerMsg: number;
}

/** Lines describing the index lookups made after each phase. */
const searches: string[] = [];

async function phase(
  name: string,
  count: number,
  size: number,
  write: (store: SqliteStore, box: Mailbox, bytes: Uint8Array) => Promise<unknown>,
  every1000: (store: SqliteStore) => Promise<void>,
  after: (store: SqliteStore) => Promise<void>,
): Promise<Row[]> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-bench-index-" });
  const store = await openSqliteStore(join(dir, "bench.db"));
  try {
    const account = await store.createAccount("bench@bench.test", "x");
    const inbox = (await store.getMailbox(account.id, "INBOX"))!;
    const enc = new TextEncoder();
    const inFlight = new Set<Promise<unknown>>();
    const t0 = performance.now();
    const c0 = cpuMs();
    let sent = 0;
    for (const m of generateMessages(count, { size })) {
      const p = write(store, inbox, enc.encode(m.replaceAll("\n", "\r\n")));
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 32) await Promise.race(inFlight);
      if (++sent % 1000 === 0) await every1000(store);
    }
    await Promise.all(inFlight);
    const t1 = performance.now();
    const c1 = cpuMs();
    await after(store);
    const t2 = performance.now();
    const c2 = cpuMs();
    // Candidates for a rare and a common string once everything is indexed.
    for (const value of [`uniq${count - 7}x`, "regards"]) {
      const t = performance.now();
      const uids = await store.searchText(inbox.id, { part: "text", value });
      const ms = (performance.now() - t).toFixed(1);
      searches.push(`${name}: TEXT "${value}" -> ${uids?.length} candidates in ${ms} ms`);
    }
    const row = (phase: string, ms: number, cpu: number): Row => ({
      phase,
      messages: count,
      seconds: ms / 1000,
      perSec: count / (ms / 1000),
      cpuMsPerMsg: cpu / count,
    });
    const rows = [row(`${name}: store`, t1 - t0, c1 - c0)];
    if (t2 - t1 > 1) rows.push(row(`${name}: index after`, t2 - t1, c2 - c1));
    return rows;
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function benchIndex(args: string[]): Promise<void> {
  const count = flag(args, "--messages", 100_000);
  const size = flag(args, "--size", 10_240);
  const rows = [
    ...await phase(
      "deliver",
      count,
      size,
      (s, box, bytes) => s.deliver(bytes, [{ accountId: box.accountId, mailbox: "INBOX" }]),
      () => Promise.resolve(),
      caughtUp,
    ),
    ...await phase(
      "import",
      count,
      size,
      (s, box, bytes) => s.append(box.id, bytes),
      (s) => s.flushTextIndex(),
      (s) => s.flushTextIndex(),
    ),
  ];
  console.log(`full-text indexing, ${count} generated messages of ~${size} octets`);
  console.log("phase                 messages   seconds    msg/s   CPU ms/msg");
  for (const r of rows) {
    console.log(
      `${r.phase.padEnd(20)} ${String(r.messages).padStart(9)} ${
        r.seconds.toFixed(1).padStart(9)
      } ${r.perSec.toFixed(0).padStart(8)} ${r.cpuMsPerMsg.toFixed(2).padStart(12)}`,
    );
  }
  for (const line of searches) console.log(line);
}

if (import.meta.main) await benchIndex(Deno.args);
