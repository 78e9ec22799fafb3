/**
 * How a plugin runner process is started: the one place that knows the command line.
 *
 * Today: `deno run --no-prompt --allow-<only what was granted> --v8-flags=--max-old-space-size=N
 * --preload <module> plugins/runner.ts <module>`. A compiled denomail binary would instead run
 * itself with a hidden runner subcommand and enforce the grant with a Worker inside that child
 * (issue 7); that mode is added here and nowhere else.
 *
 * Why `--preload` and not `--allow-read=<module dir>`: the admin did not grant read access
 * to the plugin's folder, and granting it would let a plugin read whatever sits next to it.
 * A preloaded module and its static imports are loaded by the Deno CLI itself, outside the
 * permission system, so the plugin gets exactly the grant in its config and nothing more.
 * (A plugin that `import()`s its own files dynamically needs a read grant for them.)
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { PluginConfig, PluginPermissions } from "../core/config.ts";

/** A command line. */
export interface SpawnSpec {
  cmd: string;
  args: string[];
}

const KINDS: (keyof PluginPermissions)[] = ["net", "read", "write", "env", "run", "ffi", "sys"];

/** `builtin:<name>`, a file: URL or an absolute path -> the module's file: URL. */
export function resolveModule(module: string): string {
  if (module.startsWith("builtin:")) {
    const name = module.slice("builtin:".length);
    if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`bad builtin plugin name "${name}"`);
    return new URL(`./${name}/mod.ts`, import.meta.url).href;
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

/** The command that starts one runner for `plugin`. */
export function runnerCommand(plugin: PluginConfig): SpawnSpec {
  const url = resolveModule(plugin.module);
  const runner = new URL("./runner.ts", import.meta.url).href;
  return {
    cmd: Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      "--no-lock",
      `--v8-flags=--max-old-space-size=${plugin.memoryMb}`,
      ...permissionFlags(plugin.permissions),
      `--preload=${url}`,
      runner,
      url,
    ],
  };
}
