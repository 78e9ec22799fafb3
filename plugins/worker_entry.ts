/**
 * The plugin side inside a permission-scoped Worker (the compiled binary's runner mode, see
 * `sandbox_child.ts`). The Worker's bootstrap module imports the plugin statically and hands
 * its namespace to `serveInWorker`; protocol lines travel as strings by postMessage.
 *
 * @module
 */
import type { HostToRunner, RunnerToHost } from "./protocol.ts";
import { encodeLine } from "./protocol.ts";
import { PluginRunner, redirectConsole } from "./runner_core.ts";

interface WorkerScope {
  postMessage(msg: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
}

/** Serves the plugin module `mod` over the Worker's message port. */
export function serveInWorker(mod: unknown): void {
  redirectConsole();
  const scope = globalThis as unknown as WorkerScope;
  const send = (msg: RunnerToHost) => {
    scope.postMessage(encodeLine(msg));
    return Promise.resolve();
  };
  const runner = new PluginRunner(send, () => Promise.resolve(mod));
  scope.onmessage = async (e: MessageEvent) => {
    const msg = JSON.parse(String(e.data)) as HostToRunner;
    if (await runner.handle(msg) === "fatal") scope.close();
  };
}
