/**
 * How a plugin runner process is started: the one place that knows the command line.
 *
 * Two sandbox modes:
 * - "process" (running from source): `deno run --no-prompt --allow-<only what was granted>
 *   --v8-flags=--max-old-space-size=N --preload plugins/engine/ipc_connect.ts --preload <module>
 *   plugins/engine/runner.ts <module> <socket path> <token> <kinds to revoke|keep>`, with
 *   `--allow-net=unix:<path>`, `--allow-read=<path>` and `--allow-write=<path>` for the host's
 *   Unix socket added (ipc_connect.ts revokes them before the module loads).
 * - "worker" (a compiled binary, where `Deno.execPath()` is denomail itself): `denomail
 *   __plugin-runner <module> <grants JSON>` with DENO_V8_FLAGS=--max-old-space-size=N; that
 *   child runs the plugin in a Worker whose `deno.permissions` are exactly the grant (see
 *   sandbox_child.ts). The env var DENOMAIL_PLUGIN_SANDBOX=worker selects this mode from
 *   source too (`deno run main.ts __plugin-runner`, with the permissions the compile task
 *   gives the binary), which is how the tests exercise it without a compiled binary.
 *
 * Why `--preload` and not `--allow-read=<module dir>`: the admin did not grant read access
 * to the plugin's folder, and granting it would let a plugin read whatever sits next to it.
 * A preloaded module and its static imports are loaded by the Deno CLI itself, outside the
 * permission system, so the plugin gets exactly the grant in its config and nothing more.
 * What a runner may load at all is scoped by an import map (import_map.ts): module
 * loading is not gated by `--allow-read`, so without it a plugin could import any file.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { PluginConfig, PluginPermissions } from "./config.ts";
import { importMapUrl, sandboxImportMap } from "./import_map.ts";

/** A command line. */
export interface SpawnSpec {
  cmd: string;
  args: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string>;
}

/** How plugins are sandboxed: see the module doc. */
export type SandboxMode = "process" | "worker";

/** The permissions `deno task compile` gives the binary (and so the worker-mode child). */
const BINARY_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

/** "worker" in a compiled binary (or when DENOMAIL_PLUGIN_SANDBOX=worker), else "process". */
export function sandboxMode(): SandboxMode {
  let forced: string | undefined;
  try {
    forced = Deno.env.get("DENOMAIL_PLUGIN_SANDBOX");
  } catch { /* no env permission: not forced */ }
  if (forced === "worker" || forced === "process") return forced;
  return Deno.build.standalone ? "worker" : "process";
}

const KINDS: (keyof PluginPermissions)[] = ["net", "read", "write", "env", "run", "ffi", "sys"];

/** `builtin:<name>`, a file: URL or an absolute path -> the module's file: URL. */
export function resolveModule(module: string): string {
  if (module.startsWith("builtin:")) {
    const name = module.slice("builtin:".length);
    if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`bad builtin plugin name "${name}"`);
    return new URL(`../builtin/${name}/mod.ts`, import.meta.url).href;
  }
  if (module.startsWith("file:")) return new URL(module).href;
  if (!isAbsolute(module)) throw new Error(`plugin module must be an absolute path: ${module}`);
  return pathToFileURL(module).href;
}

/** The file path of a file: URL module (for messages and checks). */
export function modulePath(url: string): string {
  return fileURLToPath(url);
}

/**
 * `--allow-<kind>=a,b` flags for exactly the granted permissions. `["*"]` grants the kind
 * without a list (an admin's explicit choice). Throws on an entry that would smuggle in a
 * second value or flag.
 */
export function permissionFlags(p: PluginPermissions): string[] {
  const flags: string[] = [];
  for (const kind of KINDS) {
    const list = p[kind] ?? [];
    if (list.length === 0) continue;
    for (const v of list) {
      if (v === "" || /[,\s]/.test(v)) {
        throw new Error(`permissions.${kind}: "${v}" may not be empty or contain "," or spaces`);
      }
    }
    flags.push(list.includes("*") ? `--allow-${kind}` : `--allow-${kind}=${list.join(",")}`);
  }
  return flags;
}

/**
 * A grant as a Worker's `deno.permissions`: every kind not granted is denied; `["*"]`
 * grants the whole kind.
 */
export function workerPermissions(p: PluginPermissions): Record<string, boolean | string[]> {
  permissionFlags(p); // the same checks on every entry
  const out: Record<string, boolean | string[]> = { import: false };
  for (const kind of KINDS) {
    const list = p[kind] ?? [];
    out[kind] = list.length === 0 ? false : list.includes("*") ? true : [...list];
  }
  return out;
}

/** The host's Unix socket for one process-mode runner (see plugins/engine/ipc_connect.ts). */
export interface IpcSocket {
  /** The socket's path, in a private (0700) temp folder of the host. */
  path: string;
  token: string;
}

/** Permission kinds Deno checks to connect a Unix socket: net "unix:<path>", read and write. */
const IPC_KINDS = ["net", "read", "write"] as const;

/**
 * Whether the admin's grant of `kind` already covers the socket at `path`: then the runner
 * keeps it (revoking a path revokes every granted folder above it too, which would take
 * away part of the admin's grant).
 */
function grantCovers(list: readonly string[], kind: typeof IPC_KINDS[number], path: string) {
  if (list.includes("*")) return true;
  if (kind === "net") return list.includes(`unix:${path}`);
  return list.some((g) => {
    const abs = resolve(g);
    return path === abs || path.startsWith(abs.endsWith("/") ? abs : abs + "/");
  });
}

/**
 * The command that starts one runner for `plugins`: one plugin, or the members of a
 * `group` (config.ts checked that they share one grant and memory_mb; the first one's
 * are used). With `ipc` (process mode), the runner talks over that Unix socket: it is
 * granted net, read and write for the socket's path only until its first preload
 * connected (and then revokes them), unless the plugins' own grant covers them.
 */
export function runnerCommand(
  plugins: PluginConfig[],
  mode = sandboxMode(),
  ipc?: IpcSocket,
  deniedPaths: string[] = [],
): SpawnSpec {
  const [plugin] = plugins;
  const urls = plugins.map((p) => resolveModule(p.module));
  // Scopes module loading (static, dynamic, import attributes) to the allowed folders.
  const importMap = `--import-map=${importMapUrl(sandboxImportMap(urls, deniedPaths))}`;
  // And no downloads: `import("npm:" + anything)` would have the Deno CLI fetch from the
  // registry for the plugin, a network request no grant allowed (the packages denomail
  // declares are in the cache: Deno installs them with the server).
  const noFetch = "--cached-only";
  // One argument: URLs one per line (a URL never holds a raw newline).
  const modules = urls.join("\n");
  if (mode === "worker") {
    const grants = JSON.stringify(plugin.permissions);
    const env = { DENO_V8_FLAGS: `--max-old-space-size=${plugin.memoryMb}` };
    if (Deno.build.standalone) {
      // No import map here: a compiled binary loads only the modules built into it
      // (denoland/deno#18327), so a plugin cannot import a file from the disk at all.
      return batchScheduled({
        cmd: Deno.execPath(),
        args: ["__plugin-runner", modules, grants],
        env,
      });
    }
    const main = new URL("../../main.ts", import.meta.url).href;
    return batchScheduled({
      cmd: Deno.execPath(),
      args: [
        "run",
        "--no-prompt",
        "--no-lock",
        "--unstable-worker-options",
        importMap,
        noFetch,
        ...BINARY_PERMISSIONS,
        main,
        "__plugin-runner",
        modules,
        grants,
      ],
      env,
    });
  }
  const runner = new URL("./runner.ts", import.meta.url).href;
  let flags = permissionFlags(plugin.permissions);
  const ipcArgs: string[] = [];
  const preloads: string[] = [];
  if (ipc) {
    // Each kind Deno checks for the connect is granted for the socket alone, and revoked
    // by the first preload once connected, unless the admin's grant covers it anyway.
    const revoke: string[] = [];
    for (const kind of IPC_KINDS) {
      const list = plugin.permissions[kind] ?? [];
      if (grantCovers(list, kind, ipc.path)) continue;
      revoke.push(kind);
      const mine = kind === "net" ? `unix:${ipc.path}` : ipc.path;
      flags = flags.filter((f) => !f.startsWith(`--allow-${kind}`));
      flags.push(`--allow-${kind}=${[...list, mine].join(",")}`);
    }
    preloads.push(`--preload=${new URL("./ipc_connect.ts", import.meta.url).href}`);
    ipcArgs.push(ipc.path, ipc.token, revoke.join(",") || "keep");
  }
  return batchScheduled({
    cmd: Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      "--no-lock",
      `--v8-flags=--max-old-space-size=${plugin.memoryMb}`,
      importMap,
      noFetch,
      ...flags,
      ...preloads,
      ...urls.map((u) => `--preload=${u}`),
      runner,
      modules,
      ...ipcArgs,
    ],
  });
}

const CHRT = "/usr/bin/chrt";
let chrtWorks: boolean | undefined;

/**
 * Runs the runner under SCHED_BATCH (util-linux `chrt`, which then execs it: same pid):
 * a batch task woken by the host's write does not preempt the host, it waits for the
 * host to block or for the other core. Under load, a call's wake-up then no longer costs
 * the server's main loop a context switch, and more calls are waiting when the runner
 * reads (measured: `deno task bench plugins`, the runners' calls per wake-up). Scheduling
 * is otherwise as fair as before (nice 0). Without `chrt`, or where the kernel or a
 * seccomp profile refuses the policy (checked once), or with DENOMAIL_PLUGIN_SCHED=normal
 * (bench plugins compares the two), runners start as they are.
 */
function batchScheduled(spec: SpawnSpec): SpawnSpec {
  let normal = false;
  try {
    normal = Deno.env.get("DENOMAIL_PLUGIN_SCHED") === "normal";
  } catch { /* no env permission: the default */ }
  if (normal) return spec;
  if (chrtWorks === undefined) {
    try {
      chrtWorks = new Deno.Command(CHRT, {
        args: ["--batch", "0", "/bin/true"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      chrtWorks = false;
    }
  }
  if (!chrtWorks) return spec;
  return { ...spec, cmd: CHRT, args: ["--batch", "0", spec.cmd, ...spec.args] };
}
