/**
 * Starts the third-party servers of ../shared/peers (Postfix, Haraka) on loopback for
 * side-by-side runs, when they are installed. Each returns null when unavailable.
 *
 * @module
 */
const PEERS = new URL("../../shared/peers/", import.meta.url).pathname;

export interface Peer {
  name: string;
  port: number;
  /** The server's main process (Postfix: master), for CPU figures. */
  pid?: number;
  stop(): Promise<void>;
}

async function sh(args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command("bash", { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function has(cmd: string): Promise<boolean> {
  return (await sh(["-c", `command -v ${cmd} || test -x /usr/sbin/${cmd}`])).code === 0;
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A private Postfix on loopback. `mainCf`: settings applied on top of postfix-start.sh's
 * main.cf with `postconf -e`, then `postfix reload` (e.g. `smtpd_milters`).
 */
export async function startPostfix(
  mainCf: Record<string, string> = {},
  name = "Postfix",
): Promise<Peer | null> {
  if (!(await has("postfix"))) return null;
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-postfix-" });
  await Deno.chmod(dir, 0o755); // Postfix's daemons run as other users and must reach it
  const r = await sh([`${PEERS}postfix-start.sh`, String(port), dir]);
  if (r.code !== 0) {
    console.error(`postfix did not start: ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  const settings = Object.entries(mainCf).map(([k, v]) => `${k}=${v}`);
  if (settings.length > 0) {
    const c = await sh([
      "-c",
      'postconf -c "$0/etc" -e "$@" && postfix -c "$0/etc" reload',
      dir,
      ...settings,
    ]);
    if (c.code !== 0) console.error(`postconf failed: ${c.stderr.trim()}`);
  }
  const pid = Number(r.stdout.trim().split("\n").pop());
  return {
    name,
    port,
    ...(Number.isSafeInteger(pid) && pid > 0 ? { pid } : {}),
    async stop() {
      await sh(["-c", `postfix -c ${dir}/etc stop`]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export async function startHaraka(): Promise<Peer | null> {
  const npmDir = Deno.env.get("PEERS_NPM_DIR") ?? "/tmp/peers-npm";
  try {
    await Deno.stat(`${npmDir}/node_modules/.bin/haraka`);
  } catch {
    return null;
  }
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-haraka-" });
  const r = await sh([`${PEERS}haraka-start.sh`, String(port), dir, "disk"], {
    PEERS_NPM_DIR: npmDir,
  });
  const pid = r.stdout.trim().split("\n").pop();
  if (r.code !== 0 || !pid) return null;
  return {
    name: "Haraka (disk)",
    port,
    async stop() {
      await sh(["-c", `kill ${pid}; sleep 0.5; kill -9 ${pid} 2>/dev/null || true`]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** smtp-source (Postfix's load generator), when installed. */
export async function smtpSource(
  port: number,
  sessions: number,
  msgs: number,
  size: number,
  rcpt: string,
): Promise<number | null> {
  if (!(await has("smtp-source"))) return null;
  const t0 = performance.now();
  const r = await sh([
    "-c",
    `PATH=$PATH:/usr/sbin smtp-source -s ${sessions} -m ${msgs} -l ${size} -M bench.localhost ` +
    `-f bench@example.test -t ${rcpt} 127.0.0.1:${port}`,
  ]);
  if (r.code !== 0 || r.stderr.trim() !== "") return null;
  return msgs / ((performance.now() - t0) / 1000);
}
