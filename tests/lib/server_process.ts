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
  /** The exit status once the process has ended (null while it runs). */
  exited(): Deno.CommandStatus | null;
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
  extraArgs: string[] = [],
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--config", configPath, ...extraArgs],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const ports: Record<string, number> = {};
  let started = false;
  let exited: Deno.CommandStatus | null = null;
  child.status.then((s) => exited = s);
  const ready = Promise.withResolvers<void>();
  const timer = setTimeout(
    () => ready.reject(new Error(`server did not start in time; log:\n${text}`)),
    timeoutMs,
  );
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += dec.decode(chunk, { stream: true });
      // Scanned only until ready: rescanning the whole log for every chunk made the log's
      // reader (the bench's load generator) cost more with every message.
      if (started) continue;
      for (const m of text.matchAll(/\[(\w+)\] listening on \S+:(\d+)/g)) {
        ports[m[1]] = Number(m[2]);
      }
      if (expect.every((n) => ports[n])) {
        started = true;
        ready.resolve();
      }
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
    exited: () => exited,
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

const ALL_LISTENERS = [
  "smtp",
  "submission",
  "submissions",
  "imap",
  "imaps",
  "pop3",
  "pop3s",
  "managesieve",
  "http",
  "https",
] as const;

/**
 * A config for a server with only `listen` enabled, on ephemeral loopback ports. `tables`
 * (TOML tables such as `[limits]` or `[[plugins]]`) follow the `[listeners]` table.
 */
export function configToml(
  dataDir: string,
  listen: readonly string[],
  opts: { hostname?: string; tables?: string } = {},
): string {
  const listeners = ALL_LISTENERS.map((n) => `${n} = "${listen.includes(n) ? "127.0.0.1:0" : ""}"`);
  return `hostname = "${opts.hostname ?? "mail.example.test"}"\ndata_dir = "${dataDir}"\n` +
    `[listeners]\n${listeners.join("\n")}\n${opts.tables ?? ""}`;
}

/** Adds a user through the CLI, as an admin does; throws with the CLI's message on failure. */
export async function addUserCli(configPath: string, email: string, password: string) {
  const r = await cli(["user", "add", email, "--password-stdin", "--config", configPath], {
    stdin: password + "\n",
  });
  if (r.code !== 0) throw new Error(`user add ${email}: ${r.stderr}`);
}

/** A temp dir with a config, one user, and `serve` running on it. */
export async function startDenomailProcess(opts: {
  prefix: string;
  listen: string[];
  user: [email: string, password: string];
  hostname?: string;
  tables?: string;
}) {
  const dir = await Deno.makeTempDir({ prefix: opts.prefix });
  const configPath = `${dir}/denomail.toml`;
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, opts.listen, opts));
  await addUserCli(configPath, ...opts.user);
  const proc = await startServerProcess(configPath, opts.listen);
  return {
    dir,
    configPath,
    proc,
    async stop() {
      await proc.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
