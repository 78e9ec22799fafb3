/**
 * Runs denomail as a separate process (`main.ts serve`), the way an admin does, and learns
 * its bound ports from the "listening on" log lines.
 *
 * @module
 */
import { run } from "../harness.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

export interface ServerProcess {
  child: Deno.ChildProcess;
  ports: Record<string, number>;
  /** Everything the server logged so far. */
  log(): string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for a clean exit. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Runs `main.ts <args>` to completion (a CLI command), the way an admin runs it. */
export function cli(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(Deno.execPath(), ["run", "-A", MAIN, ...args], { ...opts, cwd: ROOT, check: false });
}

/** Starts `main.ts serve --config <path>` and waits until `expect` listeners are bound. */
export async function startServerProcess(
  configPath: string,
  expect: string[],
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--config", configPath],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const ports: Record<string, number> = {};
  const ready = Promise.withResolvers<void>();
  const timer = setTimeout(
    () => ready.reject(new Error(`server did not start in time; log:\n${text}`)),
    timeoutMs,
  );
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += dec.decode(chunk, { stream: true });
      for (const m of text.matchAll(/\[(\w+)\] listening on \S+:(\d+)/g)) {
        ports[m[1]] = Number(m[2]);
      }
      if (expect.every((n) => ports[n])) ready.resolve();
    }
    ready.reject(new Error(`server exited before it was ready; log:\n${text}`));
  })().catch(() => {});
  try {
    await ready.promise;
  } finally {
    clearTimeout(timer);
  }
  return {
    child,
    ports,
    log: () => text,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      return await child.status;
    },
  };
}
