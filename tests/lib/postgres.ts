/**
 * A private PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl start` on a free
 * loopback port (TCP on 127.0.0.1 only, its Unix socket in the temp dir), one database,
 * torn down by `stop()`. Tests never depend on a system service.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to
 * the unprivileged `postgres` user (created by Debian's package) and its commands run
 * through `runuser`. When the binaries are missing (`findPostgres()` returns a reason),
 * tests are ignored and print that reason; CI installs the `postgresql` package
 * (`.ci/run`).
 *
 * @module
 */
import { join } from "node:path";

/** A running private cluster. */
export interface PostgresCluster {
  /** `postgres://USER@127.0.0.1:PORT/DB` of the test database. */
  url: string;
  /** A URL of another, fresh database on the same cluster. */
  createDatabase(name: string): Promise<string>;
  /** Stops the cluster and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server at once, as a crash would (`-m immediate`), keeping its data. */
  halt(): Promise<void>;
  /** Starts it again after `halt` (same port, same data; WAL recovery). */
  resume(): Promise<void>;
}

const ROOT = "/usr/lib/postgresql";

/** The bin directory of the newest installed PostgreSQL, or null. */
export function findPostgresBin(): string | null {
  let versions: number[] = [];
  try {
    versions = [...Deno.readDirSync(ROOT)].map((e) => Number(e.name)).filter((n) => n > 0);
  } catch {
    return null;
  }
  for (const v of versions.sort((a, b) => b - a)) {
    const bin = join(ROOT, String(v), "bin");
    try {
      Deno.statSync(join(bin, "initdb"));
      Deno.statSync(join(bin, "pg_ctl"));
      return bin;
    } catch { /* try the next version */ }
  }
  return null;
}

function isRoot(): boolean {
  return Deno.uid?.() === 0;
}

function hasUser(name: string): boolean {
  try {
    return Deno.readTextFileSync("/etc/passwd").split("\n").some((l) => l.startsWith(name + ":"));
  } catch {
    return false;
  }
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresMissing(): string | null {
  if (!findPostgresBin()) {
    return `PostgreSQL is not installed (no ${ROOT}/*/bin/initdb): ` +
      "apt-get install postgresql, as .ci/run does";
  }
  if (isRoot() && !hasUser("postgres")) {
    return "running as root and there is no unprivileged `postgres` user to run the cluster";
  }
  return null;
}

/** Prints why PostgreSQL tests are skipped (once per test file); returns whether they are. */
export function skipPostgres(): boolean {
  const why = postgresMissing();
  if (why) console.warn(`SKIPPED PostgreSQL tests: ${why}`);
  return why !== null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Runs a PostgreSQL binary (as `postgres` when we are root); throws with its output. */
async function run(bin: string, args: string[]): Promise<string> {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  const out = await new Deno.Command(cmd, {
    args: argv,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { LC_ALL: "C.UTF-8", LANG: "C.UTF-8" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${bin} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** A self-signed certificate for `localhost` in `dir` (server.crt, server.key; mode 0600). */
async function selfSigned(dir: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-keyout",
      join(dir, "server.key"),
      "-out",
      join(dir, "server.crt"),
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl: ${new TextDecoder().decode(out.stderr)}`);
  await Deno.chmod(join(dir, "server.key"), 0o600);
}

/**
 * Starts a private cluster with a database `denomail`. `tls`: the server also accepts TLS,
 * with a self-signed certificate for `localhost` (clients choose with `?sslmode=`).
 * `durable`: keep fsync on (benchmarks); tests turn it off. `settings`: more server settings
 * (`-c name=value`; values without spaces).
 */
export async function startPostgres(
  opts: { tls?: boolean; durable?: boolean; settings?: Record<string, string> } = {},
): Promise<PostgresCluster> {
  const why = postgresMissing();
  if (why) throw new Error(why);
  const bin = findPostgresBin()!;
  const dir = await Deno.makeTempDir({ prefix: "denomail-pg-" });
  const data = join(dir, "data");
  if (opts.tls) await selfSigned(dir);
  if (isRoot()) await new Deno.Command("chown", { args: ["-R", "postgres:", dir] }).output();
  const user = isRoot() ? "postgres" : Deno.env.get("USER") ?? "postgres";
  await run(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    user,
    "--auth=trust",
    "--encoding=UTF8",
    "--no-sync",
  ]);
  let port = freePort();
  const serverOptions = () =>
    [
      "-c listen_addresses=127.0.0.1",
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      // A throwaway test cluster: durability is not what these tests check.
      ...(opts.durable ? [] : ["-c fsync=off"]),
      "-c max_connections=200",
      ...Object.entries(opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
      ...(opts.tls
        ? ["-c ssl=on", `-c ssl_cert_file=${dir}/server.crt`, `-c ssl_key_file=${dir}/server.key`]
        : []),
    ].join(" ");
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const start = () =>
    run(join(bin, "pg_ctl"), [
      "-D",
      data,
      "-o",
      serverOptions(),
      "-l",
      join(dir, "log"),
      "-w",
      "start",
    ]);
  const halt = async () => {
    await run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
  };
  const resume = async () => {
    await start();
  };
  try {
    // The port was free when picked, but PostgreSQL binds it only now: a test running in
    // parallel may have taken it meanwhile (its own port 0, or a client's local port). Then
    // the start fails naming the address; a new port is picked (a few tries).
    for (let attempt = 1;; attempt++) {
      try {
        await start();
        break;
      } catch (e) {
        const log = await Deno.readTextFile(join(dir, "log")).catch(() => "");
        if (attempt >= 5 || !/could not bind|Address already in use/.test(log)) throw e;
        await Deno.writeTextFile(join(dir, "log"), "");
        port = freePort();
      }
    }
    const createDatabase = async (name: string) => {
      await run(join(bin, "createdb"), ["-h", dir, "-p", String(port), "-U", user, name]);
      return `postgres://${user}@127.0.0.1:${port}/${name}`;
    };
    const url = await createDatabase("denomail");
    return { url, createDatabase, stop, halt, resume };
  } catch (e) {
    await stop();
    throw e;
  }
}
