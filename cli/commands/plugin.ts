/**
 * `plugin list | check PATH | test PATH --eml FILE --from A --to B[,C] | reload |
 * new PATH [--hooks h1,h2]`
 *
 * `list` prints one line per configured plugin: name, module, declared hooks, granted
 * permissions, state (an error, and exit 1, when one is failed) and, while a `serve` runs,
 * its figures from that server (calls, verdicts, timeouts, restarts, memory: asked with
 * SIGUSR1, see app/control.ts). With no server running it loads every plugin in its
 * sandbox (as `serve` would) and says that the figures need a running server. `check PATH` loads one module with no permissions at all and reports its
 * hooks, or why it is not a valid plugin (exit 1). `test` replays a message through one
 * plugin (in its sandbox, with the grants and options of the configured plugin using the
 * same module, else none) and prints each hook's verdict; exit 1 when a hook failed.
 * `reload` makes the running `serve` (its pid in data_dir/denomail.pid) re-read the
 * config's plugins, the way SIGHUP does, and prints the outcome.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import type { Config, PluginConfig } from "../../core/config.ts";
import { pluginDnsLookup } from "../../core/plugin_dns.ts";
import { PluginHost } from "../../plugins/engine/host.ts";
import { permissionFlags, resolveModule } from "../../plugins/engine/spawn.ts";
import { formatStep, MemoryKv, replay } from "../../plugins/engine/replay.ts";
import { readPid, readReloadStatus, readStats, type StatsReport } from "../../app/control.ts";
import { formatStats } from "../../plugins/engine/metrics.ts";
import { pluginNew } from "./plugin_new.ts";
import { log } from "../../lib/log.ts";

export const usage = "plugin list | plugin check PATH | " +
  "plugin test PATH --eml FILE --from A --to B[,C] [--ip IP] [--helo NAME] [--user EMAIL] | " +
  "plugin reload | plugin new PATH [--hooks h1,h2]";

/** How long `plugin list` waits for a running serve's figures. */
const STATS_WAIT_MS = 10_000;

/** How long `plugin reload` waits for serve to report. */
const RELOAD_WAIT_MS = 60_000;

const NO_PERMISSIONS = { net: [], read: [], write: [], env: [], run: [], ffi: [], sys: [] };

/** A plugin the config does not list (check, test): no grant, a generous timeout. */
function unconfigured(name: string, module: string): PluginConfig {
  return {
    name,
    module,
    permissions: NO_PERMISSIONS,
    timeoutMs: 10_000,
    memoryMb: 256,
    onError: "tempfail",
    options: {},
    processes: 1,
  };
}

function grants(p: PluginConfig): string {
  const flags = permissionFlags(p.permissions).map((f) => f.replace(/^--allow-/, ""));
  return flags.length ? flags.join(" ") : "none";
}

export async function run(ctx: CliContext): Promise<void> {
  const [sub, path, ...extra] = ctx.args.positional;
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const config = await ctx.config();
  // Load failures are reported in this command's own output, not as log lines too.
  if (!log.enabled("debug")) log.level = "error";
  switch (sub) {
    case "list":
      if (path !== undefined) throw new UsageError(`unexpected argument ${path}`);
      return await list(ctx, config);
    case "new":
      return await pluginNew(ctx, path);
    case "test":
      return await test(ctx, config, path);
    case "reload":
      if (path !== undefined) throw new UsageError(`unexpected argument ${path}`);
      return await reload(ctx, config);
    case "check": {
      const module = await moduleArg(path);
      const plugin = unconfigured("check", module);
      const host = await PluginHost.start({ ...config, plugins: [plugin] }, {
        store: null,
        dns: pluginDnsLookup(config.dns),
      });
      try {
        const [p] = host.list();
        if (p.state !== "ready") throw new Error(`plugin check: ${path}: ${p.error ?? p.state}`);
        ctx.print(`${path}: ok, hooks: ${p.hooks.length ? p.hooks.join(", ") : "(none)"}`);
      } finally {
        await host.stop();
      }
      return;
    }
    default:
      throw new UsageError(`plugin: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}

/** `plugin list`: see the module doc. */
async function list(ctx: CliContext, config: Config): Promise<void> {
  if (config.plugins.length === 0) {
    ctx.print("no plugins configured");
    return;
  }
  const byName = new Map(config.plugins.map((p) => [p.name, p]));
  const live = await askRunning(config);
  let rows: Array<{ name: string; state: string; hooks: string[]; error: string | null }>;
  let host: PluginHost | null = null;
  if (live) rows = live.plugins;
  else {
    host = await PluginHost.start(config, { store: null, dns: pluginDnsLookup(config.dns) });
    rows = host.list();
  }
  let failed = 0;
  try {
    for (const p of rows) {
      if (p.state !== "ready") failed++;
      const c = byName.get(p.name);
      const hooks = p.hooks.length ? p.hooks.join(",") : "-";
      const state = p.state === "ready" ? "ok" : `ERROR ${p.error ?? p.state}`;
      const cols = [
        p.name,
        c?.module ?? "-",
        `hooks=${hooks}`,
        `permissions=${c ? grants(c) : "-"}`,
      ];
      const figures = live ? `\t${formatStats(p as StatsReport["plugins"][number])}` : "";
      ctx.print(`${cols.join("\t")}\t${state}${figures}`);
    }
  } finally {
    await host?.stop();
  }
  if (!live) ctx.print("(no running server: loaded from the config; figures need `serve`)");
  // A script or health check must see a plugin that does not load (exit 1).
  if (failed) throw new Error(`plugin list: ${failed} of ${rows.length} failed`);
}

/** The pid of the running serve (its pid file), or null when none runs. */
async function runningServe(config: Config): Promise<number | null> {
  const pid = await readPid(config);
  if (pid === null) return null;
  // A stale pid file may name some other process by now: do not signal it (Linux check).
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => null);
  if (cmdline === null || !cmdline.split("\0").includes("serve")) return null;
  return pid;
}

/** The running serve's plugin figures (SIGUSR1, app/control.ts), or null with no server. */
async function askRunning(config: Config): Promise<StatsReport | null> {
  const pid = await runningServe(config);
  if (pid === null) return null;
  const asked = Date.now();
  try {
    Deno.kill(pid, "SIGUSR1");
  } catch {
    return null;
  }
  const deadline = asked + STATS_WAIT_MS;
  while (Date.now() < deadline) {
    const r = await readStats(config);
    if (r && r.pid === pid && r.at >= asked) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`plugin list: no answer from the server (pid ${pid}) within ${STATS_WAIT_MS} ms`);
}

/** PATH as a module: builtin:x, a file: URL, or an existing file (made absolute). */
async function moduleArg(path: string | undefined): Promise<string> {
  if (path === undefined || path === "") throw new UsageError("missing argument PATH");
  if (path.startsWith("builtin:") || path.startsWith("file:")) return path;
  const module = resolve(path);
  try {
    await Deno.stat(module);
  } catch {
    throw new UsageError(`no such file ${path}`);
  }
  return module;
}

function need(ctx: CliContext, flag: string): string {
  const v = ctx.args.values.get(flag);
  if (v === undefined || v === "") throw new UsageError(`plugin test: missing ${flag}`);
  return v;
}

/** `plugin test PATH --eml FILE --from A --to B`: see the module doc. */
async function test(ctx: CliContext, config: Config, path: string | undefined): Promise<void> {
  const module = await moduleArg(path);
  const emlPath = need(ctx, "--eml");
  const from = ctx.args.values.get("--from") ?? "";
  const to = need(ctx, "--to").split(",").map((a) => a.trim()).filter((a) => a);
  let message: Uint8Array;
  try {
    message = await Deno.readFile(emlPath);
  } catch (e) {
    throw new UsageError(`--eml: cannot read ${emlPath}: ${(e as Error).message}`);
  }
  const url = resolveModule(module);
  const configured = config.plugins.find((p) => {
    try {
      return resolveModule(p.module) === url;
    } catch {
      return false;
    }
  });
  const plugin: PluginConfig = configured ?? unconfigured(
    module.startsWith("builtin:")
      ? module.slice("builtin:".length)
      : basename(url).replace(/\.[a-z]+$/, "").replace(/[^A-Za-z0-9_-]/g, "_") || "test",
    module,
  );
  ctx.print(
    `plugin ${plugin.name} (${configured ? "grants and options from the config" : "no grants"}` +
      `: permissions=${grants(plugin)})`,
  );
  const host = await PluginHost.start({ ...config, plugins: [plugin] }, {
    store: new MemoryKv(),
    dns: pluginDnsLookup(config.dns),
  });
  try {
    const [p] = host.list();
    if (p.state !== "ready") throw new Error(`plugin test: ${path}: ${p.error ?? p.state}`);
    const steps = await replay(host, {
      message,
      from,
      to,
      ip: ctx.args.values.get("--ip"),
      helo: ctx.args.values.get("--helo"),
      user: ctx.args.values.get("--user"),
    });
    if (steps.length === 0) ctx.print("(the plugin declares no hooks)");
    for (const step of steps) ctx.print(formatStep(step));
    const failed = steps.filter((s) => s.outcome.results.some((r) => r.error));
    if (failed.length > 0) {
      throw new Error(`plugin test: ${failed.length} hook call(s) failed (see ERROR above)`);
    }
  } finally {
    await host.stop();
  }
}

/** `plugin reload`: SIGHUP to the running serve, then wait for its report. */
async function reload(ctx: CliContext, config: Config): Promise<void> {
  const pid = await readPid(config);
  if (pid === null) {
    throw new Error(`plugin reload: no running server (no pid file in ${config.dataDir})`);
  }
  if (await runningServe(config) === null) {
    throw new Error(`plugin reload: pid ${pid} (from the pid file) is not a denomail serve`);
  }
  const before = await readReloadStatus(config);
  try {
    Deno.kill(pid, "SIGHUP");
  } catch (e) {
    throw new Error(`plugin reload: cannot signal pid ${pid}: ${(e as Error).message}`);
  }
  const deadline = Date.now() + RELOAD_WAIT_MS;
  for (;;) {
    const now = await readReloadStatus(config);
    if (
      now && now.pid === pid &&
      (!before || before.pid !== pid || now.seq > before.seq)
    ) {
      if (!now.ok) throw new Error(`plugin reload failed: ${now.error}`);
      const list = now.plugins.map((p) => `${p.name}(${p.hooks.join(",") || "-"})`);
      ctx.print(`reloaded: ${list.length ? list.join(" ") : "no plugins"}`);
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`plugin reload: no answer from pid ${pid} within ${RELOAD_WAIT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
