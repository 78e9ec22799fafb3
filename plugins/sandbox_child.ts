/**
 * `denomail __plugin-runner <module URL> <grants JSON>`: the runner mode of a compiled
 * denomail binary (where `Deno.execPath()` is denomail, not deno, so `deno run` flags cannot
 * scope a child). This process is trusted host code with the binary's own permissions; the
 * plugin runs in a Worker inside it whose `deno.permissions` are exactly the grant. The heap
 * cap comes from DENO_V8_FLAGS (set by the host), and a timeout still SIGKILLs this whole
 * process, so a busy or hoarding plugin is stopped as in the `deno run` mode.
 *
 * This process relays protocol lines: stdin -> Worker, Worker -> stdout. A plugin module
 * that fails to load (throws, syntax error, missing import, permission outside the binary's
 * own) is answered with `fatal`; an uncaught error after that ends the process, and the host
 * restarts it.
 *
 * @module
 */
import type { PluginPermissions } from "../core/config.ts";
import { encodeLine, LineSplitter } from "./protocol.ts";
import { workerPermissions } from "./spawn.ts";

const enc = new TextEncoder();
let writing: Promise<void> = Promise.resolve();

function writeLine(line: string): Promise<void> {
  const bytes = enc.encode(line.endsWith("\n") ? line : line + "\n");
  writing = writing.then(async () => {
    let off = 0;
    while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
  });
  return writing;
}

async function fatal(error: string): Promise<never> {
  await writeLine(encodeLine({ t: "fatal", error }));
  await writing;
  Deno.exit(3);
}

/** The bootstrap module of the Worker: the plugin is part of its static module graph. */
export function bootstrapSource(moduleUrl: string): string {
  const entry = new URL("./worker_entry.ts", import.meta.url).href;
  return `import * as plugin from ${JSON.stringify(moduleUrl)};\n` +
    `import { serveInWorker } from ${JSON.stringify(entry)};\n` +
    `serveInWorker(plugin);\n`;
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
    const line = String(e.data);
    if (!ready && line.startsWith('{"t":"ready"')) ready = true;
    writeLine(line);
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
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  const splitter = new LineSplitter();
  for await (const chunk of lines) {
    for (const line of splitter.push(chunk)) if (line !== "") worker.postMessage(line);
  }
  // stdin closed: the host is gone or is stopping us.
  worker.terminate();
  await writing;
  Deno.exit(0);
}
