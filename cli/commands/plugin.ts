/**
 * `plugin list | check PATH`
 *
 * `list` loads every configured plugin in its sandbox (as `serve` would) and prints one
 * line each: name, module, declared hooks, granted permissions, and an error if it does
 * not load. `check PATH` loads one module with no permissions at all and reports its
 * hooks, or why it is not a valid plugin (exit 1).
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import type { PluginConfig } from "../../core/config.ts";
import { PluginHost } from "../../plugins/host.ts";
import { permissionFlags } from "../../plugins/spawn.ts";
import { log } from "../../core/log.ts";

export const usage = "plugin list | plugin check PATH";

const NO_PERMISSIONS = { net: [], read: [], write: [], env: [], run: [], ffi: [], sys: [] };

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
    case "list": {
      if (path !== undefined) throw new UsageError(`unexpected argument ${path}`);
      if (config.plugins.length === 0) {
        ctx.print("no plugins configured");
        return;
      }
      const host = await PluginHost.start(config, { store: null });
      try {
        for (const [i, p] of host.list().entries()) {
          const c = config.plugins[i];
          const hooks = p.hooks.length ? p.hooks.join(",") : "-";
          const state = p.state === "ready" ? "ok" : `ERROR ${p.error ?? p.state}`;
          ctx.print(
            `${p.name}\t${c.module}\thooks=${hooks}\tpermissions=${grants(c)}\t${state}`,
          );
        }
      } finally {
        await host.stop();
      }
      return;
    }
    case "check": {
      if (path === undefined || path === "") throw new UsageError("missing argument PATH");
      const module = path.startsWith("builtin:") || path.startsWith("file:") ? path : resolve(path);
      if (!module.startsWith("builtin:") && !module.startsWith("file:")) {
        try {
          await Deno.stat(module);
        } catch {
          throw new UsageError(`no such file ${path}`);
        }
      }
      const plugin: PluginConfig = {
        name: "check",
        module,
        permissions: NO_PERMISSIONS,
        timeoutMs: 10_000,
        memoryMb: 256,
        onError: "tempfail",
        options: {},
      };
      const host = await PluginHost.start({ ...config, plugins: [plugin] }, { store: null });
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
