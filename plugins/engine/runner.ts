/**
 * The child side of a plugin (or of a `group` of plugins with the same grant): `deno run
 * --no-prompt --allow-<granted> --preload <module>... plugins/engine/runner.ts <module URLs>`.
 *
 * The plugin module is given with `--preload`, so the Deno CLI loads it and its static
 * imports (the SDK, the plugin's own files) as part of the module graph, with no read
 * permission needed; the dynamic `import()` below then finds the already-loaded module.
 * The runner talks to the host over the socket plugins/engine/ipc_connect.ts (the first preload)
 * opened before the plugin was evaluated, or, without one, over stdin and stdout, which
 * are always open.
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

async function main(): Promise<void> {
  redirectConsole();
  // One module URL, or a group's URLs one per line (a URL never holds a raw newline).
  const urls = Deno.args[0].split("\n");
  const runner = new PluginRunner(send, () => Promise.all(urls.map((u) => import(u))));
  const frames = new FrameReader();
  // One read buffer, reused (the reader copies what outlives a read); read() costs less
  // per call than a stream of fresh chunks (measured).
  const buf = new Uint8Array(READ_SIZE);
  while (true) {
    const n = await (conn ?? Deno.stdin).read(buf);
    if (n === null) break;
    for (const f of frames.push(buf.subarray(0, n), true)) {
      if (f.value === null) continue;
      const r = runner.handle(f.value as HostToRunner, f.bin);
      if ((r instanceof Promise ? await r : r) === "fatal") {
        await out.flushed();
        Deno.exit(3);
      }
    }
  }
  // stdin (or the socket) closed: the host is gone or is stopping us.
  await out.flushed();
  Deno.exit(0);
}

if (import.meta.main) await main();
