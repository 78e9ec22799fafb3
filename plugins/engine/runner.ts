/**
 * The child side of a plugin (or of a `group` of plugins with the same grant): `deno run
 * --no-prompt --allow-<granted> --preload <module>... plugins/engine/runner.ts <module URLs>`.
 *
 * The plugin module is given with `--preload`, so the Deno CLI loads it and its static
 * imports (the SDK, the plugin's own files) as part of the module graph, with no read
 * permission needed; the dynamic `import()` below then finds the already-loaded module.
 * The runner talks to the host over stdin and stdout (the default; see `main` for why), or,
 * with `DENOMAIL_PLUGIN_WIRE=socket` in the server's environment (kept to compare, process.ts),
 * over the socket plugins/engine/ipc_connect.ts (the first preload) opened before the
 * plugin was evaluated.
 *
 * Invariants:
 * - stdout carries only protocol lines; `console.*` is redirected to stderr so a plugin
 *   that logs cannot corrupt the channel (lines it writes to stdout directly before the
 *   redirect are ignored by the host).
 * - Calls run concurrently; each answer carries its call id (see runner_core.ts).
 *
 * @module
 */
import type { HostToRunner, RunnerToHost } from "./protocol.ts";
import { FrameQueue, FrameReader } from "./protocol.ts";
import { PluginRunner, redirectConsole } from "./runner_core.ts";
import { conn } from "./ipc_connect.ts";

/**
 * Writes all of `bytes` to stdout, synchronously: cheaper per answer than an async write
 * (measured), and safe: the host reads stdout independently of what it writes to stdin,
 * so a full pipe only makes this process wait for the host.
 */
function writeAll(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
  return Promise.resolve();
}

/** The same on the host's socket (plugins/engine/ipc_connect.ts), when there is one. */
async function writeConn(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn!.write(bytes.subarray(off));
}

const out = new FrameQueue(conn ? writeConn : writeAll);

/** Queues one frame; frames never interleave. */
function send(msg: RunnerToHost, payload: Uint8Array[] = []): Promise<void> {
  out.pushFrame(msg, payload);
  return Promise.resolve();
}

const READ_SIZE = 64 * 1024;

/**
 * On stdin, a runner with nothing under way sleeps in a blocking read instead of its event
 * loop: woken by the host's write, it reads, runs the hooks, writes the answers (stdout is
 * written synchronously) and blocks again, with no epoll, no async read and no promise per
 * read. That halves what a wake-up costs this process (measured: a bare round trip 3.5
 * against 7.5 µs of CPU on the socket; `deno task bench plugins`: ≈20 % less CPU per call).
 * While a call, a prepare or a service request is under way the loop reads asynchronously,
 * so the event loop runs as usual. Timers and other background work of the plugin run
 * whenever the event loop is let run: at least every TURN_MS while calls come, and when
 * the host's `tick` wakes an idle runner (process.ts sends one after TICK_MS without a
 * frame), so they run at most about that late.
 */
const TURN_MS = 100;

/** One turn of the event loop: expired timers and finished I/O run. */
const turn = () => new Promise<void>((r) => setTimeout(r, 0));

async function main(): Promise<void> {
  redirectConsole();
  // One module URL, or a group's URLs one per line (a URL never holds a raw newline).
  const urls = Deno.args[0].split("\n");
  const runner = new PluginRunner(send, () => Promise.all(urls.map((u) => import(u))));
  const frames = new FrameReader();
  // One read buffer, reused (the reader copies what outlives a read); read() costs less
  // per call than a stream of fresh chunks (measured).
  const buf = new Uint8Array(READ_SIZE);
  let turned = Date.now();
  while (true) {
    let n: number | null;
    if (conn) n = await conn.read(buf);
    else {
      // What is already queued (a hook's unawaited promise turns) runs before sleeping.
      await Promise.resolve();
      if (runner.ticked || Date.now() - turned >= TURN_MS) {
        runner.ticked = false;
        await turn();
        turned = Date.now();
      }
      if (runner.idle) {
        // A call that ended in those turns queued its answer for a later one: write it now.
        out.flushSync();
        n = Deno.stdin.readSync(buf);
      } else n = await Deno.stdin.read(buf);
    }
    if (n === null) break;
    for (const f of frames.push(buf.subarray(0, n), true)) {
      if (f.value === null) continue;
      const r = runner.handle(f.value as HostToRunner, f.bin);
      if ((r instanceof Promise ? await r : r) === "fatal") {
        await out.flushed();
        Deno.exit(3);
      }
    }
    // The answers of hooks that answered at once go out before the next read.
    if (!conn) out.flushSync();
  }
  // stdin (or the socket) closed: the host is gone or is stopping us.
  await out.flushed();
  Deno.exit(0);
}

if (import.meta.main) await main();
