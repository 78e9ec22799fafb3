/**
 * `serve`: run every configured listener until SIGINT/SIGTERM.
 *
 * SIGHUP reloads the TLS certificate and the plugins: the config file is read again and
 * its `[[plugins]]` get fresh processes; SMTP sessions are not dropped and calls under way
 * finish on the old processes (PluginHost.reload). A config that does not parse, or a
 * plugin that does not load, leaves the running plugins as they were. Each reload's outcome
 * goes to data_dir/plugins-reload.json (what `denomail plugin reload` waits for), and the
 * pid to data_dir/denomail.pid.
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { type RunningServer, startServer } from "../../app/server.ts";
import { type Config, loadConfig } from "../../core/config.ts";
import { log } from "../../lib/log.ts";
import { pluginDnsLookup } from "../../core/plugin_dns.ts";
import { PluginHost } from "../../plugins/engine/host.ts";
import { removePidFile, writePidFile, writeReloadStatus, writeStats } from "../../app/control.ts";
import { join } from "node:path";
import { SQLITE_FILE } from "../../storage/open.ts";
import {
  planUpgrade,
  pruneMigrationBackups,
  type UpgradePlan,
} from "../../storage/sqlite/upgrade.ts";

/** The SQLite upgrade plan (null on PostgreSQL, whose migrations run in its store). */
function upgradePlan(config: Config): UpgradePlan | null {
  if (config.storage.backend !== "sqlite") return null;
  return planUpgrade(join(config.dataDir, SQLITE_FILE));
}

/** `serve --dry-run-migrations`: what the next start would migrate; writes nothing. */
function printPlan(ctx: CliContext, config: Config, plan: UpgradePlan | null): void {
  if (!plan) {
    throw new UsageError(
      `serve --dry-run-migrations: storage.backend = ${config.storage.backend} is not supported (sqlite only)`,
    );
  }
  if (!plan.exists) {
    ctx.print(`no database yet: a new one would be created at schema version ${plan.to}`);
    return;
  }
  if (plan.pending.length === 0) {
    ctx.print(`schema version ${plan.from} is current: nothing to migrate`);
    return;
  }
  ctx.print(`schema version ${plan.from} -> ${plan.to}; would run, each in a transaction:`);
  for (const line of plan.pending) ctx.print(`  ${line}`);
  ctx.print(
    config.storage.skipMigrationBackup
      ? "the database would NOT be copied first (--skip-migration-backup)"
      : `the database would be copied first to ${join(config.dataDir, "backups")}/`,
  );
}

export const usage = "serve [--config FILE] [--dry-run-migrations] [--skip-migration-backup]";

export async function run(ctx: CliContext): Promise<void> {
  if (ctx.args.positional.length) {
    throw new UsageError(`serve: unexpected argument ${ctx.args.positional[0]}`);
  }
  const loaded = await ctx.config();
  const config = ctx.args.booleans.has("--skip-migration-backup")
    ? { ...loaded, storage: { ...loaded.storage, skipMigrationBackup: true } }
    : loaded;
  const plan = upgradePlan(config);
  if (ctx.args.booleans.has("--dry-run-migrations")) return printPlan(ctx, config, plan);
  log.info("server", config.source ? `config: ${config.source}` : "config: built-in defaults", {
    data_dir: config.dataDir,
  });
  // Signals are caught from before the start: a SIGTERM while plugins load or the pid file
  // is written must stop the server cleanly (no pid file left behind), not kill it.
  const done = Promise.withResolvers<void>();
  // Aborted at SIGINT/SIGTERM: plugin runners ended by the same signal are no failure.
  const shutdown = new AbortController();
  const stop = () => {
    shutdown.abort();
    done.resolve();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let server: RunningServer;
  let nodeLost = false; // another process took cluster.node: stop, and exit 1
  try {
    server = await startServer(config, {
      shutdown: shutdown.signal,
      onNodeLost: () => {
        nodeLost = true;
        stop();
      },
    });
  } catch (e) {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    throw e;
  }
  // SIGUSR1: `plugin list` asks for the plugins' figures (app/control.ts); caught
  // before the pid file names this process, so the signal never finds it unprepared.
  const usr1 = () => {
    const plugins = server.deps.plugins?.stats() ?? [];
    writeStats(config, { pid: Deno.pid, at: Date.now(), plugins }).catch((e) =>
      log.warn("plugin", "cannot write the plugin stats", { error: (e as Error).message })
    );
  };
  Deno.addSignalListener("SIGUSR1", usr1);
  await writePidFile(config).catch(async (e) => {
    Deno.removeSignalListener("SIGUSR1", usr1);
    await server.stop();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    throw e;
  });
  if (plan && plan.pending.length === 0) {
    // A start with nothing to migrate after one that did: the upgrade held, drop the copies.
    const removed = pruneMigrationBackups(join(config.dataDir, "backups"));
    if (removed.length) log.info("server", "removed pre-migration copies", { removed });
  }
  if ((await server.deps.store.listAdmins()).length === 0) {
    log.info(
      "server",
      'no admin account yet: create one with "deno task cli user add EMAIL --admin" ' +
        '(or give an existing user the role: "deno task cli user role EMAIL admin")',
    );
  }
  let seq = 0;
  let reloading: Promise<void> = Promise.resolve();

  /** Re-reads the config and restarts the plugins; reports to plugins-reload.json. */
  const reloadPlugins = async (): Promise<{ ok: boolean; error?: string }> => {
    const n = ++seq;
    let ok = true;
    let error: string | undefined;
    try {
      const fresh: Config = await loadConfig(ctx.args.values.get("--config") ?? null);
      const deps = server.deps;
      if (deps.plugins) await deps.plugins.reload(fresh.plugins);
      else if (fresh.plugins.length > 0) {
        // No plugins at start: the sessions read deps.plugins on every hook, so a host
        // set here is used from the next hook on.
        deps.plugins = await PluginHost.start(fresh, {
          store: deps.store,
          dns: pluginDnsLookup(fresh.dns),
          shutdown: deps.shutdown,
          strict: true,
        });
      }
    } catch (e) {
      ok = false;
      error = (e as Error).message;
      log.error("plugin", "plugin reload failed; the running plugins stay", { error });
    }
    const plugins = (server.deps.plugins?.list() ?? []).map((p) => ({
      name: p.name,
      hooks: p.hooks,
    }));
    await writeReloadStatus(config, {
      pid: Deno.pid,
      seq: n,
      at: Date.now(),
      ok,
      ...(error ? { error } : {}),
      plugins,
    }).catch((e) =>
      log.warn("plugin", "cannot write the reload status", { error: (e as Error).message })
    );
    return { ok, ...(error ? { error } : {}) };
  };
  /** SIGHUP, and the admin API's reload (deps.reload): one after the other, never two at once. */
  const reload = () => {
    server.deps.tls.reload();
    server.deps.acme?.check(); // ACME: renew now if due (e.g. a retry after fixing DNS)
    const done = reloading.then(reloadPlugins);
    reloading = done.then(() => {});
    return done;
  };
  server.deps.reload = reload;
  const hup = () => {
    log.info("server", "SIGHUP: reloading the TLS certificate and the plugins");
    reload();
  };
  Deno.addSignalListener("SIGHUP", hup);
  await done.promise;
  log.info("server", "stopping");
  // SIGINT/SIGTERM stay caught while stopping: a second Ctrl-C must not kill the process
  // half way (leaving the pid file and unanswered sessions); the stop is bounded anyway.
  Deno.removeSignalListener("SIGHUP", hup);
  server.deps.reload = undefined;
  Deno.removeSignalListener("SIGUSR1", usr1);
  try {
    await reloading;
    await server.stop();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    // Also after a failed stop: a stale pid file would make `plugin reload` signal a
    // process that is gone (or another one).
    await removePidFile(config);
  }
  if (nodeLost) {
    throw new Error(`cluster.node "${config.cluster.node}" was taken by another process`);
  }
}
