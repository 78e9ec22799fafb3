/**
 * The PluginHost: sandboxed runner processes for the configured plugins — one per plugin
 * (or per `group` of plugins that share one sandbox), or a pool of `processes` of them —
 * and `run(hook, input)` which asks the plugins that declare the hook, in config order.
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
 *   by one plugin is the `mailbox` the next one sees (plugins/engine/chain.ts has these rules).
 * - Consecutive asked plugins of one group are asked in one call: their runner applies
 *   the same rules between them, and the host applies each answer as if it had asked
 *   them one by one. Such a call's deadline is the sum of their timeouts; a timeout or
 *   crash is a failure of each of them, in order.
 * - A pool: each `run` picks, per pool, the ready process with the fewest calls in flight,
 *   and sends that run's prepares and calls for the pool there.
 * - data: a plugin after the first that can prepare the hook (sdk.ts `Prepares`) is sent
 *   the message at the start, so its work runs while the plugins ahead of it run; its
 *   hook still runs in order and sees their results. A prepared value is used only while
 *   the message differs from the one prepared by prepended header fields at most (never
 *   after a plugin replaced the message or its body), and is dropped when the plugin is
 *   not asked.
 * - data, plugins that declared `early` (sdk.ts `Early`), alone in their process: their
 *   call is sent ahead of their turn — when the run starts, beside the plugins ahead of
 *   them, or for an envelope-only one already when DATA is accepted (`early()`) — and its
 *   answer is applied in its turn, in order, by the rules above, exactly as if it had been
 *   asked then. It is used only while nothing it reads has changed since it was asked
 *   (the score; a result ahead of it that is more than a plain "continue"; the header
 *   fields or message, for one that reads them; the message size it was told); otherwise
 *   it is asked again in its turn. An early answer after the run was decided is dropped.
 * - Reload (`reload`): the new plugin processes are started first; only when all of them
 *   loaded do new calls go to them. A `run` already under way finishes on the processes it
 *   started with; those stop once the last such run is done. A reload that fails to load a
 *   plugin changes nothing.
 *
 * The engine knows no protocol and imports nothing from core/: it is given the plugins'
 * configs (config.ts types), the store for `ctx.kv`, a DNS lookup for `ctx.dns` and a
 * shutdown signal (HostSettings, HostOptions).
 *
 * @module
 */
import { explainDenied } from "./denied.ts";
import { wireStats } from "./protocol.ts";
import type { PluginConfig } from "./config.ts";
import { log } from "../../lib/log.ts";
import type {
  Action,
  DeliverCopy,
  HeaderField,
  HookName,
  PluginResultSummary,
  Reads,
  SessionInfo,
} from "../sdk.ts";
import { READS } from "../sdk.ts";
import { PluginCounters, type PluginStats, rssBytes } from "./metrics.ts";
import {
  type CallOutcome,
  PluginProcess,
  type ProcessOptions,
  type ServiceHandler,
} from "./process.ts";
import { checkResult } from "./verdict.ts";
import { ChainState } from "./chain.ts";
import { type DnsLookup, hostServices, type KvStore, noDnsLookup } from "./services.ts";

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
  /** deliver: the copies a plugin asked for (replacing `mailbox`). */
  copies?: DeliverCopy[];
  /** deliver: forward this account's copy to these addresses. */
  redirect?: string[];
  /** deliver: an automatic reply to the envelope sender. */
  reply?: { to: string; message: string };
  relay?: string;
  tls?: "require" | "opportunistic" | "none";
  /** One entry per asked plugin. */
  results: PluginResultSummary[];
}

/** What `PluginHost.start` reads of the server's configuration (a Config is one). */
export interface HostSettings {
  plugins: PluginConfig[];
  /** Never importable by a plugin, nor are the TLS files. */
  dataDir?: string;
  tls?: { cert?: string | null; key?: string | null };
}

/** Options for `PluginHost.start`. */
export interface HostOptions {
  /** Backs `ctx.kv` (the server's Store; an in-memory one for `plugin test`). */
  store?: KvStore | null;
  /** Backs `ctx.dns` (the server's resolver: core/plugin_dns.ts). Unset: lookups fail. */
  dns?: DnsLookup;
  process?: ProcessOptions;
  /** Aborted once the server is shutting down (a runner killed then is no failure). */
  shutdown?: AbortSignal;
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

/** One configured plugin: the processes that run it (a pool), and its index there. */
interface Member {
  config: PluginConfig;
  pool: PluginProcess[];
  p: number;
}

/**
 * Early calls (sdk.ts `Early`) over the process's life: answers used in turn, answers that
 * were not there yet in turn (and the ms waited for them), and answers dropped for a new
 * call in turn (something they read changed). Logged with the wire figures at stop.
 */
export const earlyStats = { used: 0, waited: 0, waitedMs: 0, reasked: 0 };

/** A call sent ahead of the member's turn (sdk.ts `Early`), and what it was told. */
interface Ahead {
  outcome: Promise<CallOutcome>;
  /** Its answer, once there (the outcome resolved). */
  done: boolean;
  /** performance.now() when it was sent. */
  t0: number;
  proc: PluginProcess;
  /** The message size it was told; how many earlier results and what score it was given. */
  size: number;
  earlier: number;
  score: number;
}

/**
 * The data calls sent when DATA was accepted (`PluginHost.early`), to hand to `run`. Holds
 * nothing but the calls' promises: a message that never ends (an aborted DATA) just drops it.
 */
export class EarlyCalls {
  /** @internal */
  constructor(readonly gen: object, readonly calls: Map<PluginConfig, Ahead>) {}
}

/** The hooks a member declared (every process of a pool loads the same modules). */
function hooksOf(m: Member): HookName[] {
  const first = m.pool[0].hooks[m.p];
  if (first.length > 0 || m.pool.length === 1) return first;
  return (m.pool.find((x) => x.hooks[m.p].length > 0) ?? m.pool[0]).hooks[m.p];
}

/** A member asked in one run, and the process of its pool that this run uses. */
type Asked = Member & { proc: PluginProcess };

/** The process of `pool` for a new run: ready first, then the fewest calls in flight. */
function pick(pool: PluginProcess[]): PluginProcess {
  let best = pool[0];
  for (const x of pool) {
    const better = (x.state === "ready") !== (best.state === "ready")
      ? x.state === "ready"
      : x.load < best.load;
    if (better) best = x;
  }
  return best;
}

/** One set of plugin processes (replaced as a whole by a reload). */
interface Generation {
  procs: PluginProcess[];
  /** Every plugin, in config order. */
  members: Member[];
  /** `run` calls under way on this generation. */
  active: number;
  /** Replaced by a reload: stops when `active` reaches 0. */
  retired: boolean;
}

/** Runs the configured plugins. */
export class PluginHost {
  #gen: Generation;
  #services: ServiceHandler;
  #limits = new Map<string, PluginConfig>();
  #processOpts: ProcessOptions | undefined;
  /** Retired generations still finishing their runs. */
  #draining = new Set<Promise<void>>();
  #reloading: Promise<unknown> = Promise.resolve();
  /** Figures per plugin name, kept across reloads (metrics.ts). */
  #counters = new Map<string, PluginCounters>();

  private constructor(services: ServiceHandler, processOpts: ProcessOptions | undefined) {
    this.#services = services;
    this.#processOpts = processOpts;
    this.#gen = { procs: [], members: [], active: 0, retired: false };
  }

  /** Spawns every plugin and waits until each has loaded (or failed to). */
  static async start(config: HostSettings, opts: HostOptions = {}): Promise<PluginHost> {
    // Each plugin's service limits, by name; kept current by reload.
    const limits = new Map(config.plugins.map((p) => [p.name, p]));
    const services = hostServices(
      opts.store ?? null,
      opts.dns ?? noDnsLookup,
      limits,
    );
    // The data directory and TLS files are never importable, even from a plugin kept
    // beside them (plugins/engine/import_map.ts).
    const deniedPaths = [config.dataDir, config.tls?.cert, config.tls?.key]
      .filter((p): p is string => !!p);
    const host = new PluginHost(services, {
      ...opts.process,
      deniedPaths,
      shutdown: opts.shutdown ?? opts.process?.shutdown,
    });
    host.#limits = limits;
    const { procs, members, bad } = await host.#spawn(config.plugins);
    host.#gen.procs = procs;
    host.#gen.members = members;
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
    // A group's plugins go to one process (config.ts checked they share one sandbox).
    const byGroup = new Map<string, PluginConfig[]>();
    const units: PluginConfig[][] = [];
    for (const p of plugins) {
      const unit = p.group ? byGroup.get(p.group) : undefined;
      if (unit) unit.push(p);
      else {
        units.push([p]);
        if (p.group) byGroup.set(p.group, units[units.length - 1]);
      }
    }
    const pools = units.map((u) =>
      Array.from(
        { length: u[0].processes },
        () => new PluginProcess(u, this.#services, this.#processOpts),
      )
    );
    const procs = pools.flat();
    const members = plugins.map((config) => {
      const u = units.findIndex((x) => x.includes(config));
      return { config, pool: pools[u], p: units[u].indexOf(config) };
    });
    const ok = await Promise.all(procs.map((p) => p.start()));
    return { procs, members, bad: procs.find((_, i) => !ok[i]) ?? null };
  }

  /**
   * Replaces every plugin process with a fresh one for `plugins` (a re-read config):
   * sessions are not dropped, calls under way finish on the old processes. Throws
   * PluginLoadError, and keeps the old plugins, when a new one does not load.
   */
  reload(plugins: PluginConfig[]): Promise<void> {
    const next = this.#reloading.then(async () => {
      const { procs, members, bad } = await this.#spawn(plugins);
      if (bad) {
        await Promise.all(procs.map((p) => p.stop()));
        throw new PluginLoadError(bad.name, bad.lastError ?? "failed to load");
      }
      const old = this.#gen;
      for (const m of old.members) this.#countersOf(m.config.name).retiredRestarts += restartsOf(m);
      this.#gen = { procs, members, active: 0, retired: false };
      for (const p of plugins) this.#limits.set(p.name, p);
      old.retired = true;
      if (old.active === 0) this.#retire(old);
      log.info("plugin", "plugins reloaded", {
        plugins: members.map((m) => m.config.name).join(","),
      });
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
    return this.#gen.members.map((m) => {
      // A pool is as good as its best process; its error is the first one's.
      const up = m.pool.find((x) => x.state === "ready") ?? m.pool[0];
      return {
        name: m.config.name,
        state: up.state,
        hooks: [...hooksOf(m)],
        error: up.lastError ?? m.pool.find((x) => x.lastError)?.lastError ?? null,
      };
    });
  }

  #countersOf(name: string): PluginCounters {
    let c = this.#counters.get(name);
    if (!c) this.#counters.set(name, c = new PluginCounters());
    return c;
  }

  /**
   * Each configured plugin's figures (metrics.ts `PluginStats`): what `/metrics`, `plugin
   * list` and the admin console show. Reads each process's memory from /proc.
   */
  stats(): PluginStats[] {
    const rss = new Map<PluginProcess, number | null>();
    return this.#gen.members.map((m) => {
      const up = m.pool.find((x) => x.state === "ready") ?? m.pool[0];
      const c = this.#countersOf(m.config.name);
      let mem: number | null = null;
      for (const x of m.pool) {
        if (!rss.has(x)) rss.set(x, x.pid === null ? null : rssBytes(x.pid));
        const r = rss.get(x);
        if (r !== null && r !== undefined) mem = (mem ?? 0) + r;
      }
      return {
        name: m.config.name,
        state: up.state,
        error: up.lastError ?? m.pool.find((x) => x.lastError)?.lastError ?? null,
        hooks: [...hooksOf(m)],
        calls: Object.fromEntries(
          [...c.calls].map(([h, f]) => [h, { ...f, buckets: [...f.buckets] }]),
        ),
        verdicts: Object.fromEntries(c.verdicts),
        timeouts: c.timeouts,
        errors: c.errors,
        restarts: c.retiredRestarts + restartsOf(m),
        rssBytes: mem,
        ...(m.config.group ? { group: m.config.group } : {}),
      };
    });
  }

  /** True when some plugin declares `hook` (callers may skip building a context). */
  wants(hook: HookName): boolean {
    return this.#gen.members.some((m) => hooksOf(m).includes(hook));
  }

  /** Waits until the named plugin's runners are up (after a restart, say). */
  async ready(name: string): Promise<boolean> {
    const pool = this.#gen.members.find((m) => m.config.name === name)?.pool;
    if (!pool) return false;
    // A process that was restarting may fall to "down" with a backoff before it is up (a
    // second failure in a row): start it now rather than answer false.
    const ok = await Promise.all(pool.map(async (p) => {
      if (p.state !== "down" && await p.whenReady()) return true;
      return p.state === "down" ? await p.start() : p.state === "ready";
    }));
    return ok.every((x) => x);
  }

  /**
   * Sends the `data` calls of envelope-only plugins that declared `early` (sdk.ts `Early`)
   * now, while the message of `size` bytes (as the client declared it) is still to come;
   * hand the result to `run("data", ..., early)`. `input` is the data context without the
   * message. Null when no plugin can be asked early.
   */
  early(input: HookInput, size: number): EarlyCalls | null {
    const gen = this.#gen;
    const calls = new Map<PluginConfig, Ahead>();
    for (const m of gen.members) {
      if (!hooksOf(m).includes("data")) continue;
      const proc = m.pool.length === 1 ? m.pool[0] : pick(m.pool);
      if (!canAskEarly(proc, m.p) || proc.readsOf(m.p, "data") !== "envelope") continue;
      calls.set(m.config, this.#sendAhead({ ...m, proc }, input, size));
    }
    return calls.size > 0 ? new EarlyCalls(gen, calls) : null;
  }

  /** Sends `m` its data call now, with the context the chain starts with. */
  #sendAhead(m: Asked, input: HookInput, size: number): Ahead {
    const { message, results: earlier, ...fields } = input;
    const score = input.score ?? 0;
    const ctx = { ...fields, score, results: earlier ?? [] };
    const reads = m.proc.readsOf(m.p, "data");
    const t0 = performance.now();
    // An envelope-only call carries no payload: the size travels as the message's size.
    const outcome = message
      ? m.proc.call("data", [m.p], ctx, m.config.timeoutMs, message, [], reads)
      : m.proc.call("data", [m.p], ctx, m.config.timeoutMs, undefined, [], reads, size);
    const a: Ahead = {
      outcome,
      done: false,
      t0,
      proc: m.proc,
      size,
      earlier: earlier?.length ?? 0,
      score,
    };
    outcome.then(() => a.done = true);
    return a;
  }

  /** Asks every plugin that declares `hook`, in order; see the module invariants. */
  async run(hook: HookName, input: HookInput, early?: EarlyCalls | null): Promise<HookOutcome> {
    const gen = this.#gen;
    gen.active++;
    try {
      return await this.#run(gen.members, hook, input, early?.gen === gen ? early : null);
    } finally {
      gen.active--;
      if (gen.retired && gen.active === 0) this.#retire(gen);
    }
  }

  async #run(
    members: Member[],
    hook: HookName,
    input: HookInput,
    early: EarlyCalls | null,
  ): Promise<HookOutcome> {
    const { message: raw, results: _earlier, ...fields } = input;
    // This run's process of each pool: its prepares and calls go there.
    const chosen = new Map<PluginProcess[], PluginProcess>();
    const asked: Asked[] = [];
    for (const m of members) {
      if (!hooksOf(m).includes(hook)) continue;
      let proc = chosen.get(m.pool);
      if (!proc) chosen.set(m.pool, proc = m.pool.length === 1 ? m.pool[0] : pick(m.pool));
      asked.push({ ...m, proc });
    }
    // Calls of `early` plugins go out now (or went out at DATA), beside the first one's.
    const ahead = new Map<Asked, Ahead>();
    if (raw && hook === "data") {
      for (const [i, m] of asked.entries()) {
        const sent = early?.calls.get(m.config);
        if (sent) ahead.set(m, sent);
        else if (i > 0 && canAskEarly(m.proc, m.p)) {
          ahead.set(m, this.#sendAhead(m, input, raw.length));
        }
      }
    }
    // Prepared work of later plugins starts now, beside the first plugin's call.
    const prepared = new Map<Asked, number>();
    if (raw && hook === "data") {
      const { score: _score, ...pctx } = fields;
      for (const m of asked.slice(1)) {
        if (ahead.has(m)) continue;
        const id = m.proc.prepare(m.p, hook, pctx, raw);
        if (id !== null) prepared.set(m, id);
      }
    }
    try {
      return await this.#ask(asked, hook, input, prepared, ahead);
    } finally {
      for (const [m, id] of prepared) m.proc.drop(id);
    }
  }

  async #ask(
    asked: Asked[],
    hook: HookName,
    input: HookInput,
    prepared: Map<Asked, number>,
    ahead: Map<Asked, Ahead>,
  ): Promise<HookOutcome> {
    const { message, results: earlier, ...fields } = input;
    const state = new ChainState(message, input.score ?? 0);
    // Whether an early answer still holds: nothing it reads changed since it was asked.
    const holds = (m: Asked, a: Ahead) =>
      a.score === state.score && a.earlier === (earlier?.length ?? 0) &&
      a.size === state.message?.length && state.results.every(plain) &&
      (m.proc.readsOf(m.p, hook) === "envelope" || !state.changed);
    for (let i = 0; i < asked.length && !state.done;) {
      // Consecutive plugins of one process (a group) are asked in one call.
      let j = i + 1;
      while (j < asked.length && asked[j].proc === asked[i].proc) j++;
      const run = asked.slice(i, j);
      i = j;
      const ctx: Record<string, unknown> = {
        ...fields,
        score: state.score,
        results: [...(earlier ?? []), ...state.results],
      };
      // deliver: a mailbox an earlier plugin picked is the one later plugins see.
      if (state.mailbox !== undefined && "mailbox" in fields) ctx.mailbox = state.mailbox;
      const ids = run.map((m) => {
        const id = prepared.get(m);
        prepared.delete(m);
        // The message was replaced or its body changed: prepared values no longer apply.
        if (id !== undefined && state.replaced) m.proc.drop(id);
        return state.replaced ? undefined : id;
      });
      // Only as much of the message as the greediest of them declared it reads (sdk.ts
      // `Reads`); one that reads nothing of it gets no payload at all.
      let reads: Reads = "envelope";
      for (const m of run) {
        const r = m.proc.readsOf(m.p, hook);
        if (READS.indexOf(r) > READS.indexOf(reads)) reads = r;
      }
      const sent = run.length === 1 ? ahead.get(run[0]) : undefined;
      const use = sent && holds(run[0], sent) ? sent : undefined;
      const t0 = use?.t0 ?? performance.now();
      // An early answer not there yet: how long its turn waits for it.
      const waiting = use !== undefined && !use.done;
      if (use) earlyStats.used++;
      else if (sent) earlyStats.reasked++;
      if (waiting) earlyStats.waited++;
      const waitFrom = performance.now();
      // The message travels as the call's payload (plugins/engine/protocol.ts), not in the JSON.
      const res = use ? await use.outcome : await (sent?.proc ?? run[0].proc).call(
        hook,
        run.map((m) => m.p),
        ctx,
        run.reduce((sum, m) => sum + m.config.timeoutMs, 0),
        state.message,
        ids,
        reads,
      );
      if (waiting) earlyStats.waitedMs += performance.now() - waitFrom;
      const exact = performance.now() - t0;
      const took = Math.round(exact);
      for (const [k, m] of run.entries()) {
        if (state.done) break;
        const entry = res.ok ? res.entries[k] : undefined;
        let error = res.ok ? entry ? entry.error ?? null : "no answer" : res.error;
        let checked;
        if (error === null) {
          try {
            checked = checkResult(entry!.result ?? null);
          } catch (e) {
            error = `bad result: ${(e as Error).message}`;
          }
        }
        const ms = entry?.ms ?? took;
        if (error !== null) error = explainDenied(m.config.name, error);
        // One plugin asked: the round trip the server waited; a group's: each one's own time.
        this.#countersOf(m.config.name).record(
          hook,
          run.length === 1 ? exact : ms,
          checked?.action ?? "continue",
          error,
        );
        if (error !== null || !checked) {
          log.warn("plugin", `plugin ${m.config.name} failed in ${hook}`, {
            error,
            on_error: m.config.onError,
          });
          state.failure(m.config.name, hook, error ?? "", m.config.onError, ms);
          continue;
        }
        state.answer(m.config.name, hook, checked, ms);
      }
    }
    return {
      action: state.action,
      code: state.code,
      enhanced: state.enhanced,
      text: state.text,
      decidedBy: state.decidedBy,
      addHeaders: state.addHeaders,
      ...(state.changed ? { message: state.message } : {}),
      score: state.score,
      mailbox: state.mailbox,
      ...(state.copies ? { copies: state.copies } : {}),
      ...(state.redirect ? { redirect: state.redirect } : {}),
      ...(state.reply ? { reply: state.reply } : {}),
      relay: state.relay,
      tls: state.tls,
      results: state.results,
    };
  }

  /** Stops every runner (also those of a reload that are still finishing calls). */
  async stop(): Promise<void> {
    await this.#reloading;
    const gen = this.#gen;
    gen.retired = true;
    await Promise.all([...gen.procs.map((p) => p.stop()), ...this.#draining]);
    // How many frames each write and each read carried: the batching that makes a call
    // cheap under load (bench/plugins.ts reads this line). A CLI command's few frames are
    // not worth an admin's attention.
    const level = wireStats.framesOut >= 1000 ? "info" : "debug";
    if (wireStats.framesOut > 0) log[level]("plugin", "plugin wire", { ...wireStats });
    if (earlyStats.used + earlyStats.reasked > 0) {
      log[level]("plugin", "plugin early calls", {
        ...earlyStats,
        waitedMs: Math.round(earlyStats.waitedMs),
      });
    }
  }
}

/** Member `p` of `proc` may be asked ahead of its turn (sdk.ts `Early`): alone, and declared. */
function canAskEarly(proc: PluginProcess, p: number): boolean {
  return proc.members.length === 1 && proc.early[p] === true;
}

/** A result that tells a later plugin nothing but "asked, continued" (see `holds`). */
function plain(r: PluginResultSummary): boolean {
  return r.action === "continue" && !r.score && !r.note && r.error === undefined;
}

/** Restarts of a member's process(es): starts after the first. */
function restartsOf(m: Member): number {
  return m.pool.reduce((n, x) => n + Math.max(0, x.starts - 1), 0);
}

/** "name=action(ms)" for each result: the plugin part of a message's log line. */
export function formatResults(results: PluginResultSummary[]): string {
  return results.map((r) =>
    `${r.plugin}:${r.hook}=${r.action}${r.score ? `(${r.score})` : ""}${r.error ? "!" : ""}`
  ).join(" ");
}
