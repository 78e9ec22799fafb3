/**
 * The plugin side inside a permission-scoped Worker (the compiled binary's runner mode, see
 * `sandbox_child.ts`). The Worker's bootstrap module imports the plugins statically and hands
 * their namespaces to `serveInWorker`. Frames cross the port as `{ v, bin }` (host -> plugin:
 * the parsed JSON and its payload) and `{ t, frame }` (plugin -> host: the encoded frame,
 * which the child writes out as it is); byte arrays are transferred, not copied.
 *
 * @module
 */
import type { HostToRunner, RunnerToHost } from "./protocol.ts";
import { encodeFrame } from "./protocol.ts";
import { PluginRunner, redirectConsole } from "./runner_core.ts";

interface WorkerScope {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
}

/** Serves the plugin modules `mods` (one, or a group's) over the Worker's message port. */
export function serveInWorker(mods: unknown[]): void {
  redirectConsole();
  const scope = globalThis as unknown as WorkerScope;
  const send = (msg: RunnerToHost, payload: Uint8Array[] = []) => {
    const frame = encodeFrame(msg, payload);
    scope.postMessage({ t: msg.t, frame }, [frame.buffer as ArrayBuffer]);
    return Promise.resolve();
  };
  const runner = new PluginRunner(send, () => Promise.resolve(mods));
  scope.onmessage = async (e: MessageEvent) => {
    const { v, bin } = e.data as { v: HostToRunner; bin: Uint8Array | null };
    const r = runner.handle(v, bin);
    if ((r instanceof Promise ? await r : r) === "fatal") scope.close();
  };
}
