/**
 * Per-plugin figures (issue 23): calls per hook, a latency histogram, verdicts by kind,
 * timeouts and other failures, restarts and memory — what `/metrics`, `plugin list` and the
 * admin console show. The counters live in the host, not in the plugin processes: a plugin
 * cannot forge them, and a restart does not reset them. Pure bookkeeping, no I/O (the
 * memory figure is read by `rssBytes`, from /proc).
 *
 * @module
 */
import type { Action, HookName } from "../sdk.ts";

/** Upper bounds of the latency histogram's buckets, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
] as const;

/** One plugin's calls of one hook. */
export interface HookFigures {
  calls: number;
  /** Calls per bucket of LATENCY_BUCKETS (not cumulative); the last slot is +Inf. */
  buckets: number[];
  /** Sum of the calls' latencies in seconds. */
  seconds: number;
}

/** What `PluginHost.stats()` reports for one configured plugin. */
export interface PluginStats {
  name: string;
  /** "ready", "starting", "restarting", "down" or "stopped" (a pool: its best process). */
  state: string;
  error: string | null;
  hooks: HookName[];
  /** Per hook it was asked in. */
  calls: Partial<Record<HookName, HookFigures>>;
  /** Answers by verdict ("continue", "reject", …) and "error" for a failure. */
  verdicts: Partial<Record<Action | "error", number>>;
  timeouts: number;
  /** Failures other than timeouts (crash, throw, bad answer, not running). */
  errors: number;
  /** Restarts of its process(es) since the server started (not counting reloads). */
  restarts: number;
  /** Resident memory of its process(es) in bytes (a group's members share theirs), or null. */
  rssBytes: number | null;
  /** The group whose process it shares, if any. */
  group?: string;
}

/** The counters of one plugin (kept across reloads, by name). */
export class PluginCounters {
  calls = new Map<HookName, HookFigures>();
  verdicts = new Map<Action | "error", number>();
  timeouts = 0;
  errors = 0;
  /** Restarts of processes a reload has since retired. */
  retiredRestarts = 0;

  /** Counts one call of `hook` that took `ms` and came to `verdict` (or failed with `error`). */
  record(hook: HookName, ms: number, verdict: Action, error: string | null): void {
    let f = this.calls.get(hook);
    if (!f) {
      this.calls.set(
        hook,
        f = { calls: 0, buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0), seconds: 0 },
      );
    }
    f.calls++;
    const s = ms / 1000;
    f.seconds += s;
    let i = LATENCY_BUCKETS.findIndex((le) => s <= le);
    if (i < 0) i = LATENCY_BUCKETS.length;
    f.buckets[i]++;
    const kind = error === null ? verdict : "error";
    this.verdicts.set(kind, (this.verdicts.get(kind) ?? 0) + 1);
    if (error === null) return;
    if (/^timeout/.test(error)) this.timeouts++;
    else this.errors++;
  }
}

/**
 * Resident memory of a process in bytes (VmRSS of /proc/PID/status, Linux), or null when
 * it cannot be read (gone, another system).
 */
export function rssBytes(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** A Prometheus label value, escaped (text format 0.0.4: backslash, quote, newline). */
function label(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** The figures of `stats` as Prometheus text (format 0.0.4), `denomail_plugin_*` families. */
export function pluginMetricsText(stats: PluginStats[]): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family("denomail_plugin_up", "gauge", "1 while the plugin's process is ready.");
  for (const p of stats) {
    out.push(`denomail_plugin_up{plugin="${label(p.name)}"} ${p.state === "ready" ? 1 : 0}`);
  }
  family("denomail_plugin_calls_total", "counter", "Hook calls per plugin and hook.");
  for (const p of stats) {
    for (const [hook, f] of Object.entries(p.calls)) {
      out.push(`denomail_plugin_calls_total{plugin="${label(p.name)}",hook="${hook}"} ${f!.calls}`);
    }
  }
  family(
    "denomail_plugin_call_duration_seconds",
    "histogram",
    "Hook call latency seen by the server (round trip to the plugin's process).",
  );
  for (const p of stats) {
    for (const [hook, f] of Object.entries(p.calls)) {
      const l = `plugin="${label(p.name)}",hook="${hook}"`;
      let cum = 0;
      for (const [i, le] of LATENCY_BUCKETS.entries()) {
        cum += f!.buckets[i];
        out.push(`denomail_plugin_call_duration_seconds_bucket{${l},le="${le}"} ${cum}`);
      }
      out.push(`denomail_plugin_call_duration_seconds_bucket{${l},le="+Inf"} ${f!.calls}`);
      out.push(`denomail_plugin_call_duration_seconds_sum{${l}} ${f!.seconds.toFixed(6)}`);
      out.push(`denomail_plugin_call_duration_seconds_count{${l}} ${f!.calls}`);
    }
  }
  family("denomail_plugin_verdicts_total", "counter", 'Answers per verdict ("error": a failure).');
  for (const p of stats) {
    for (const [v, n] of Object.entries(p.verdicts)) {
      out.push(`denomail_plugin_verdicts_total{plugin="${label(p.name)}",verdict="${v}"} ${n}`);
    }
  }
  family("denomail_plugin_timeouts_total", "counter", "Calls that ran past timeout_ms.");
  for (const p of stats) {
    out.push(`denomail_plugin_timeouts_total{plugin="${label(p.name)}"} ${p.timeouts}`);
  }
  family("denomail_plugin_errors_total", "counter", "Failed calls other than timeouts.");
  for (const p of stats) {
    out.push(`denomail_plugin_errors_total{plugin="${label(p.name)}"} ${p.errors}`);
  }
  family("denomail_plugin_restarts_total", "counter", "Restarts of the plugin's process(es).");
  for (const p of stats) {
    out.push(`denomail_plugin_restarts_total{plugin="${label(p.name)}"} ${p.restarts}`);
  }
  family(
    "denomail_plugin_memory_bytes",
    "gauge",
    "Resident memory of the plugin's process(es); a group's members share one figure.",
  );
  for (const p of stats) {
    if (p.rssBytes !== null) {
      out.push(`denomail_plugin_memory_bytes{plugin="${label(p.name)}"} ${p.rssBytes}`);
    }
  }
  return out.join("\n") + "\n";
}

/** One plugin's figures on one line (for `plugin list`): calls, p50-ish latency, verdicts… */
export function formatStats(p: PluginStats): string {
  const calls = Object.entries(p.calls).map(([h, f]) =>
    `${h}:${f!.calls}(avg ${(f!.seconds / Math.max(1, f!.calls) * 1000).toFixed(1)}ms)`
  );
  const verdicts = Object.entries(p.verdicts).map(([v, n]) => `${v}:${n}`);
  const rss = p.rssBytes === null ? "-" : `${(p.rssBytes / 1048576).toFixed(1)}MB`;
  return `calls=${calls.join(",") || "0"}\tverdicts=${verdicts.join(",") || "-"}\t` +
    `timeouts=${p.timeouts}\terrors=${p.errors}\trestarts=${p.restarts}\trss=${rss}`;
}
