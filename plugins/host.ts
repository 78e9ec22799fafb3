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
 *   are applied before the next plugin sees the message; scores add up.
 *
 * @module
 */
import type { Config, PluginConfig } from "../core/config.ts";
import type { Store } from "../storage/mod.ts";
import { log } from "../core/log.ts";
import type { Action, HeaderField, HookName, PluginResultSummary, SessionInfo } from "./sdk.ts";
import { toBase64 } from "./protocol.ts";
import { PluginProcess, type ProcessOptions } from "./process.ts";
import { checkResult } from "./verdict.ts";
import { rewriteMessage } from "./message.ts";
import { defaultDnsLookup, type DnsLookup, hostServices } from "./services.ts";

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
  store?: Store | null;
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

/** Runs the configured plugins. */
export class PluginHost {
  #procs: PluginProcess[];

  private constructor(procs: PluginProcess[]) {
    this.#procs = procs;
  }

  /** Spawns every plugin and waits until each has loaded (or failed to). */
  static async start(config: Config, opts: HostOptions = {}): Promise<PluginHost> {
    const services = hostServices(opts.store ?? null, opts.dns ?? defaultDnsLookup(config));
    const procs = config.plugins.map((p: PluginConfig) =>
      new PluginProcess(p, services, opts.process)
    );
    const host = new PluginHost(procs);
    const ok = await Promise.all(procs.map((p) => p.start()));
    const bad = procs.find((_, i) => !ok[i]);
    if (bad) {
      if (opts.strict) {
        await host.stop();
        throw new PluginLoadError(bad.name, bad.lastError ?? "failed to load");
      }
      log.warn("plugin", `plugin ${bad.name} failed to load`, { reason: bad.lastError });
    }
    return host;
  }

  /** Configured plugins, their state and declared hooks. */
  list(): Array<{ name: string; state: string; hooks: HookName[]; error: string | null }> {
    return this.#procs.map((p) => ({
      name: p.name,
      state: p.state,
      hooks: [...p.hooks],
      error: p.lastError,
    }));
  }

  /** True when some plugin declares `hook` (callers may skip building a context). */
  wants(hook: HookName): boolean {
    return this.#procs.some((p) => p.hooks.includes(hook));
  }

  /** Waits until the named plugin's runner is up (after a restart, say). */
  async ready(name: string): Promise<boolean> {
    const p = this.#procs.find((x) => x.name === name);
    if (!p) return false;
    if (p.state === "down") return await p.start();
    return await p.whenReady();
  }

  /** Asks every plugin that declares `hook`, in order; see the module invariants. */
  async run(hook: HookName, input: HookInput): Promise<HookOutcome> {
    const { message, results: earlier, ...fields } = input;
    const out: HookOutcome = {
      action: "continue",
      addHeaders: [],
      score: input.score ?? 0,
      results: [],
    };
    let raw = message;
    let rawB64: string | null = null;
    for (const proc of this.#procs) {
      if (!proc.hooks.includes(hook)) continue;
      const ctx: Record<string, unknown> = {
        ...fields,
        score: out.score,
        results: [...(earlier ?? []), ...out.results],
      };
      if (raw) ctx.message = { raw: rawB64 ??= toBase64(raw) };
      const t0 = performance.now();
      const res = await proc.call(hook, ctx, proc.config.timeoutMs);
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
        rawB64 = null;
        out.message = raw;
      }
      if (raw && (checked.addHeaders.length || checked.body)) {
        raw = rewriteMessage(raw, { addHeaders: checked.addHeaders, body: checked.body });
        rawB64 = null;
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

  /** Stops every runner. */
  async stop(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
  }
}

/** "name=action(ms)" for each result: the plugin part of a message's log line. */
export function formatResults(results: PluginResultSummary[]): string {
  return results.map((r) =>
    `${r.plugin}:${r.hook}=${r.action}${r.score ? `(${r.score})` : ""}${r.error ? "!" : ""}`
  ).join(" ");
}
