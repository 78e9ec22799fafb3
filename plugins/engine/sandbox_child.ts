/**
 * `denomail __plugin-runner <module URL(s)> <grants JSON>`: the runner mode of a compiled
 * denomail binary (where `Deno.execPath()` is denomail, not deno, so `deno run` flags cannot
 * scope a child). This process is trusted host code with the binary's own permissions; the
 * plugin runs in a Worker inside it whose `deno.permissions` are exactly the grant. The heap
 * cap comes from DENO_V8_FLAGS (set by the host), and a timeout still SIGKILLs this whole
 * process, so a busy or hoarding plugin is stopped as in the `deno run` mode.
 *
 * This process relays protocol frames: stdin -> Worker, Worker -> stdout. A plugin module
 * that fails to load (throws, syntax error, missing import, permission outside the binary's
 * own) is answered with `fatal`; an uncaught error after that ends the process, and the host
 * restarts it.
 *
 * @module
 */
import type { PluginPermissions } from "./config.ts";
import { encodeFrame, FrameQueue, FrameReader } from "./protocol.ts";
import { workerPermissions } from "./spawn.ts";

const enc = new TextEncoder();
const out = new FrameQueue(async (bytes) => {
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
});

async function fatal(error: string): Promise<never> {
  out.push(encodeFrame({ t: "fatal", error }));
  await out.flushed();
  Deno.exit(3);
}

/**
 * The bootstrap module of the Worker: the plugins (one, or a group's, given one URL per
 * line) are part of its static module graph.
 */
export function bootstrapSource(moduleUrls: string): string {
  const entry = new URL("./worker_entry.ts", import.meta.url).href;
  const urls = moduleUrls.split("\n");
  return urls.map((u, i) => `import * as p${i} from ${JSON.stringify(u)};\n`).join("") +
    `import { serveInWorker } from ${JSON.stringify(entry)};\n` +
    `serveInWorker([${urls.map((_, i) => `p${i}`).join(", ")}]);\n`;
}

/** Runs the runner mode; `args` are what follows `__plugin-runner`. */
export async function sandboxChildMain(args: string[]): Promise<void> {
  const [moduleUrl, grantsJson] = args;
  if (!moduleUrl) await fatal("__plugin-runner: missing module URL");
  let grants: PluginPermissions;
  try {
    grants = JSON.parse(grantsJson ?? "{}");
  } catch {
    return await fatal("__plugin-runner: bad grants JSON");
  }
  let worker: Worker;
  try {
    worker = new Worker(
      `data:application/javascript,${encodeURIComponent(bootstrapSource(moduleUrl))}`,
      {
        type: "module",
        name: "plugin",
        // deno-lint-ignore no-explicit-any
        deno: { permissions: workerPermissions(grants) } as any,
      },
    );
  } catch (e) {
    return await fatal(`cannot start the plugin sandbox: ${(e as Error).message}`);
  }
  let ready = false;
  worker.onmessage = (e: MessageEvent) => {
    const { t, frame } = e.data as { t: string; frame: Uint8Array };
    if (t === "ready") ready = true;
    out.push(frame);
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    const msg = (e.message ?? "plugin error").replace(/^Uncaught \(in worker "plugin"\) /, "");
    if (!ready) fatal(msg);
    else {
      // After it served: let the host see the crash (and restart us).
      Deno.stderr.writeSync(enc.encode(`error: ${msg}\n`));
      Deno.exit(1);
    }
  };
  const frames = new FrameReader();
  for await (const chunk of Deno.stdin.readable) {
    for (const f of frames.push(chunk)) {
      if (f.value === null) continue;
      // The payload may share its buffer with the next frames: transfer a copy of its own.
      const bin = f.bin ? f.bin.slice() : null;
      worker.postMessage({ v: f.value, bin }, bin ? [bin.buffer as ArrayBuffer] : []);
    }
  }
  // stdin closed: the host is gone or is stopping us.
  worker.terminate();
  await out.flushed();
  Deno.exit(0);
}
