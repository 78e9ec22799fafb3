/**
 * Starts a real denomail server in-process on ephemeral loopback ports with a temp data
 * dir, for end-to-end tests with real clients.
 *
 * @module
 */
import { configFromObject, type ListenerName } from "../core/config.ts";
import type { Config } from "../core/config.ts";
import { type RunningServer, startServer } from "../app/server.ts";
import { hashPassword } from "../core/auth.ts";
import type { Account, Store } from "../storage/mod.ts";

export interface TestServer {
  config: Config;
  dir: string;
  store: Store;
  server: RunningServer;
  /** Bound ports by listener name. */
  port(name: ListenerName): number;
  /** PEM of the self-signed certificate the server presents. */
  certPem: string;
  /** Writes certPem to a file (for clients that want a CA file) and returns its path. */
  certFile(): Promise<string>;
  addUser(email: string, password: string): Promise<Account>;
  stop(): Promise<void>;
}

/** Hashing is slow on purpose; tests reuse hashes of the same password. */
const hashCache = new Map<string, Promise<string>>();

export async function startTestServer(
  overrides: Record<string, unknown> = {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-test-" });
  const listeners: Record<string, string> = {
    smtp: "127.0.0.1:0",
    submission: "127.0.0.1:0",
    submissions: "127.0.0.1:0",
    imap: "127.0.0.1:0",
    imaps: "127.0.0.1:0",
    pop3: "127.0.0.1:0",
    pop3s: "127.0.0.1:0",
    managesieve: "127.0.0.1:0",
    http: "",
    https: "",
    ...(overrides.listeners as Record<string, string> | undefined),
  };
  const doc = { hostname: "mail.example.test", data_dir: dir, ...overrides, listeners };
  const config = configFromObject(doc, dir);
  const server = await startServer(config);
  const store = server.deps.store;
  return {
    config,
    dir,
    store,
    server,
    port(name) {
      const p = server.ports[name];
      if (!p) throw new Error(`listener ${name} is not running`);
      return p;
    },
    certPem: server.deps.tls.certPem,
    async certFile() {
      const path = `${dir}/test-ca.pem`;
      await Deno.writeTextFile(path, server.deps.tls.certPem);
      return path;
    },
    async addUser(email, password) {
      let h = hashCache.get(password);
      if (!h) hashCache.set(password, h = hashPassword(password));
      return await store.createAccount(email, await h);
    },
    async stop() {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs a command, returns its output; throws with stderr when it fails and `check`. */
export async function run(
  cmd: string,
  args: string[],
  opts: {
    stdin?: string | Uint8Array;
    env?: Record<string, string>;
    check?: boolean;
    cwd?: string;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string; stdoutBytes: Uint8Array }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  const r = {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    stdoutBytes: out.stdout,
  };
  if (opts.check !== false && r.code !== 0) {
    throw new Error(`${cmd} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** Runs a python3 script given as text, with arguments. */
export function python(script: string, args: string[] = [], check = true) {
  return run("python3", ["-c", script, ...args], { check });
}
