/**
 * The PluginHost: one sandboxed runner process per configured plugin, and `run(hook, input)`
 * which asks the plugins that declare the hook, in config order.
 *
 * Invariants:
 * - The first verdict that is not "continue" wins; later plugins are not asked.
 * - A plugin that times out, crashes or throws gives its `on_error` outcome: "tempfail"
 *   (the caller answers 451 4.3.0) or "continue" (skipped). `run` never throws and returns
 *   within the sum of the asked plugins' timeouts.
 * - Every asked plugin's result (or error) is in `results`, for the log line and for the
 *   plugins after it.
 * - data / deliver: a replaced message, header fields and a replaced body from one plugin
 *   are applied before the next plugin sees the message; scores add up; a mailbox picked
 *   by one plugin is the `mailbox` the next one sees.
 * - data: a plugin after the first that can prepare the hook (sdk.ts `Prepares`) is sent
 *   the message at the start, so its work runs while the plugins ahead of it run; its
 *   hook still runs in order and sees their results. A prepared value is used only while
 *   the message differs from the one prepared by prepended header fields at most (never
 *   after a plugin replaced the message or its body), and is dropped when the plugin is
 *   not asked.
 * - Reload (`reload`): the new plugin processes are started first; only when all of them
 *   loaded do new calls go to them. A `run` already under way finishes on the processes it
 *   started with; those stop once the last such run is done. A reload that fails to load a
 *   plugin changes nothing.
 *
 * @module
 */
import type { Config, PluginConfig } from "../core/config.ts";
import { log } from "../core/log.ts";
import type { Action, HeaderField, HookName, PluginResultSummary, SessionInfo } from "./sdk.ts";
import { PluginProcess, type ProcessOptions, type ServiceHandler } from "./process.ts";
import { checkResult } from "./verdict.ts";
import { rewriteMessage } from "./message.ts";
import { defaultDnsLookup, type DnsLookup, hostServices, type KvStore } from "./services.ts";

/** What a caller hands to `run`: the hook's context fields as plain data. */
export interface HookInput {
  session: SessionInfo;
  /** The whole message (data, deliver, queue, mailbox_move). */
  message?: Uint8Array;
  /** Results from earlier hooks of the same session/message. */
  results?: PluginResultSummary[];
  /** Running score (data). */
  score?: number;
  [field: string]: unknown;
}

/** What the plugins decided for one hook. */
export interface HookOutcome {
  action: Action;
  code?: number;
  enhanced?: string;
  text?: string;
  /** The plugin whose verdict won (or whose failure decided). */
  decidedBy?: string;
  /** Header fields added by all asked plugins, in order. */
  addHeaders: HeaderField[];
  /** The message after every plugin's changes; set only when something changed. */
  message?: Uint8Array;
  score: number;
  mailbox?: string;
  relay?: string;
  tls?: "require" | "opportunistic" | "none";
  /** One entry per asked plugin. */
  results: PluginResultSummary[];
}

/** The reply for a plugin failure under on_error = "tempfail". */
export const PLUGIN_FAILURE = { code: 451, enhanced: "4.3.0" } as const;

/** Options for `PluginHost.start`. */
export interface HostOptions {
  /** Backs `ctx.kv` (the server's Store; an in-memory one for `plugin test`). */
  store?: KvStore | null;
  dns?: DnsLookup;
  process?: ProcessOptions;
  /** Throw when a plugin fails to load at start (the server does; `plugin list` does not). */
  strict?: boolean;
}

/** Thrown by a strict start when a plugin cannot be loaded. */
export class PluginLoadError extends Error {
  constructor(readonly plugin: string, reason: string) {
    super(`plugin ${plugin}: ${reason}`);
    this.name = "PluginLoadError";
  }
}

/** One set of plugin processes (replaced as a whole by a reload). */
interface Generation {
  procs: PluginProcess[];
  /** `run` calls under way on this generation. */
  active: number;
  /** Replaced by a reload: stops when `active` reaches 0. */
  retired: boolean;
}

/** Runs the configured plugins. */
export class PluginHost {
  #gen: Generation;
  #services: ServiceHandler;
  #processOpts: ProcessOptions | undefined;
  /** Retired generations still finishing their runs. */
  #draining = new Set<Promise<void>>();
  #reloading: Promise<unknown> = Promise.resolve();

  private constructor(services: ServiceHandler, processOpts: ProcessOptions | undefined) {
    this.#services = services;
    this.#processOpts = processOpts;
    this.#gen = { procs: [], active: 0, retired: false };
  }

  /** Spawns every plugin and waits until each has loaded (or failed to). */
  static async start(config: Config, opts: HostOptions = {}): Promise<PluginHost> {
    const services = hostServices(opts.store ?? null, opts.dns ?? defaultDnsLookup(config));
    const host = new PluginHost(services, opts.process);
    const { procs, bad } = await host.#spawn(config.plugins);
    host.#gen.procs = procs;
    if (bad) {
      if (opts.strict) {
        await host.stop();
        throw new PluginLoadError(bad.name, bad.lastError ?? "failed to load");
      }
      log.warn("plugin", `plugin ${bad.name} failed to load`, { reason: bad.lastError });
    }
    return host;
  }

  async #spawn(plugins: PluginConfig[]) {
    const procs = plugins.map((p) => new PluginProcess(p, this.#services, this.#processOpts));
    const ok = await Promise.all(procs.map((p) => p.start()));
    return { procs, bad: procs.find((_, i) => !ok[i]) ?? null };
  }

  /**
   * Replaces every plugin process with a fresh one for `plugins` (a re-read config):
   * sessions are not dropped, calls under way finish on the old processes. Throws
   * PluginLoadError, and keeps the old plugins, when a new one does not load.
   */
  reload(plugins: PluginConfig[]): Promise<void> {
    const next = this.#reloading.then(async () => {
      const { procs, bad } = await this.#spawn(plugins);
      if (bad) {
        await Promise.all(procs.map((p) => p.stop()));
        throw new PluginLoadError(bad.name, bad.lastError ?? "failed to load");
      }
      const old = this.#gen;
      this.#gen = { procs, active: 0, retired: false };
      old.retired = true;
      if (old.active === 0) this.#retire(old);
      log.info("plugin", "plugins reloaded", { plugins: procs.map((p) => p.name).join(",") });
    });
    this.#reloading = next.catch(() => {});
    return next;
  }

  #retire(gen: Generation): void {
    const done = Promise.all(gen.procs.map((p) => p.stop())).then(() => {});
    this.#draining.add(done);
    done.finally(() => this.#draining.delete(done));
  }

  /** Configured plugins, their state and declared hooks. */
  list(): Array<{ name: string; state: string; hooks: HookName[]; error: string | null }> {
    return this.#gen.procs.map((p) => ({
      name: p.name,
      state: p.state,
      hooks: [...p.hooks],
      error: p.lastError,
    }));
  }

  /** True when some plugin declares `hook` (callers may skip building a context). */
  wants(hook: HookName): boolean {
    return this.#gen.procs.some((p) => p.hooks.includes(hook));
  }

  /** Waits until the named plugin's runner is up (after a restart, say). */
  async ready(name: string): Promise<boolean> {
    const p = this.#gen.procs.find((x) => x.name === name);
    if (!p) return false;
    if (p.state === "down") return await p.start();
    return await p.whenReady();
  }

  /** Asks every plugin that declares `hook`, in order; see the module invariants. */
  async run(hook: HookName, input: HookInput): Promise<HookOutcome> {
    const gen = this.#gen;
    gen.active++;
    try {
      return await this.#run(gen.procs, hook, input);
    } finally {
      gen.active--;
      if (gen.retired && gen.active === 0) this.#retire(gen);
    }
  }

  async #run(procs: PluginProcess[], hook: HookName, input: HookInput): Promise<HookOutcome> {
    const { message: raw, results: _earlier, ...fields } = input;
    const out: HookOutcome = {
      action: "continue",
      addHeaders: [],
      score: input.score ?? 0,
      results: [],
    };
    const asked = procs.filter((p) => p.hooks.includes(hook));
    // Prepared work of later plugins starts now, beside the first plugin's call.
    const prepared = new Map<PluginProcess, number>();
    if (raw && hook === "data") {
      const { score: _score, ...pctx } = fields;
      for (const proc of asked.slice(1)) {
        const id = proc.prepare(hook, pctx, raw);
        if (id !== null) prepared.set(proc, id);
      }
    }
    try {
      return await this.#ask(asked, hook, input, out, prepared);
    } finally {
      for (const [proc, id] of prepared) proc.drop(id);
    }
  }

  async #ask(
    asked: PluginProcess[],
    hook: HookName,
    input: HookInput,
    out: HookOutcome,
    prepared: Map<PluginProcess, number>,
  ): Promise<HookOutcome> {
    const { message, results: earlier, ...fields } = input;
    let raw = message;
    /** The message was replaced or its body changed: prepared values no longer apply. */
    let replaced = false;
    for (const proc of asked) {
      const ctx: Record<string, unknown> = {
        ...fields,
        score: out.score,
        results: [...(earlier ?? []), ...out.results],
      };
      // deliver: a mailbox an earlier plugin picked is the one later plugins see.
      if (out.mailbox !== undefined && "mailbox" in fields) ctx.mailbox = out.mailbox;
      // The message travels as the call's payload (plugins/protocol.ts), not in the JSON.
      const t0 = performance.now();
      const pid = prepared.get(proc);
      prepared.delete(proc);
      if (pid !== undefined && replaced) proc.drop(pid);
      const res = await proc.call(
        hook,
        ctx,
        proc.config.timeoutMs,
        raw,
        replaced ? undefined : pid,
      );
      const ms = Math.round(performance.now() - t0);
      let checked;
      let error = res.ok ? null : res.error;
      if (res.ok) {
        try {
          checked = checkResult(res.result);
        } catch (e) {
          error = `bad result: ${(e as Error).message}`;
        }
      }
      if (error !== null || !checked) {
        out.results.push({ plugin: proc.name, hook, action: "continue", error: error!, ms });
        log.warn("plugin", `plugin ${proc.name} failed in ${hook}`, {
          error,
          on_error: proc.config.onError,
        });
        if (proc.config.onError === "tempfail") {
          Object.assign(out, {
            action: "tempfail",
            ...PLUGIN_FAILURE,
            text: "Temporary local problem, try again later",
            decidedBy: proc.name,
          });
          out.results[out.results.length - 1].action = "tempfail";
          return out;
        }
        continue;
      }
      out.results.push({
        plugin: proc.name,
        hook,
        action: checked.action,
        ms,
        ...(checked.score ? { score: checked.score } : {}),
        ...(checked.note ? { note: checked.note } : {}),
      });
      out.score += checked.score;
      if (checked.mailbox) out.mailbox = checked.mailbox;
      if (checked.relay) out.relay = checked.relay;
      if (checked.tls) out.tls = checked.tls;
      if (raw && checked.message) {
        // A whole replacement message (encrypt): later changes of this result apply to it.
        raw = checked.message;
        out.message = raw;
        replaced = true;
      }
      if (checked.body) replaced = true;
      if (raw && (checked.addHeaders.length || checked.body)) {
        raw = rewriteMessage(raw, { addHeaders: checked.addHeaders, body: checked.body });
        out.message = raw;
      }
      out.addHeaders.push(...checked.addHeaders);
      if (checked.action !== "continue") {
        out.action = checked.action;
        out.code = checked.code;
        out.enhanced = checked.enhanced;
        out.text = checked.text;
        out.decidedBy = proc.name;
        return out;
      }
    }
    return out;
  }

  /** Stops every runner (also those of a reload that are still finishing calls). */
  async stop(): Promise<void> {
    await this.#reloading;
    const gen = this.#gen;
    gen.retired = true;
    await Promise.all([...gen.procs.map((p) => p.stop()), ...this.#draining]);
  }
}

/** "name=action(ms)" for each result: the plugin part of a message's log line. */
export function formatResults(results: PluginResultSummary[]): string {
  return results.map((r) =>
    `${r.plugin}:${r.hook}=${r.action}${r.score ? `(${r.score})` : ""}${r.error ? "!" : ""}`
  ).join(" ");
}
