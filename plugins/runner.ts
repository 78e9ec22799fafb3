/**
 * The child side of a plugin: `deno run --no-prompt --allow-<granted> --preload <module>
 * plugins/runner.ts <module URL>`.
 *
 * The plugin module is given with `--preload`, so the Deno CLI loads it and its static
 * imports (the SDK, the plugin's own files) as part of the module graph, with no read
 * permission needed; the dynamic `import()` below then finds the already-loaded module.
 * The runner itself needs no permission at all: stdin and stdout are always open.
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
import { encodeLine, LineSplitter } from "./protocol.ts";
import { PluginRunner, redirectConsole } from "./runner_core.ts";

const enc = new TextEncoder();
let writing: Promise<void> = Promise.resolve();

/** Writes one protocol line; lines never interleave. */
function send(msg: RunnerToHost): Promise<void> {
  const bytes = enc.encode(encodeLine(msg));
  writing = writing.then(async () => {
    let off = 0;
    while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
  });
  return writing;
}

async function main(): Promise<void> {
  redirectConsole();
  const url = Deno.args[0];
  const runner = new PluginRunner(send, () => import(url));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  const splitter = new LineSplitter();
  for await (const chunk of lines) {
    for (const line of splitter.push(chunk)) {
      if (line === "") continue;
      if (await runner.handle(JSON.parse(line) as HostToRunner) === "fatal") Deno.exit(3);
    }
  }
  // stdin closed: the host is gone or is stopping us.
  await writing;
  Deno.exit(0);
}

if (import.meta.main) await main();
