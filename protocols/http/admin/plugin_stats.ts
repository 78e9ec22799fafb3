/**
 * Per-plugin figures for the admin console: calls, p50/p99 latency and verdict counts,
 * read from the plugin host's `stats()` when it has one (the per-plugin counters of
 * plugins/engine/metrics.ts: a latency histogram per hook, verdicts by kind). A host
 * without it yields null and the console shows state and grants only.
 *
 * @module
 */
import type { PluginHost } from "../../../plugins/engine/host.ts";

/**
 * Upper bounds (seconds) of the host's latency histogram buckets: the `LATENCY_BUCKETS` of
 * plugins/engine/metrics.ts (the last slot of `buckets` is +Inf).
 */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The part of the host's per-plugin stats read here. */
interface HostStats {
  name: string;
  calls: Record<string, { calls: number; buckets: number[]; seconds: number } | undefined>;
  verdicts: Record<string, number | undefined>;
  timeouts: number;
  errors: number;
  restarts: number;
}

export interface PluginFigures {
  calls: number;
  /**
   * Upper bound of the bucket holding the median / 99th percentile call, in ms; null: no
   * calls; ">10000": past the last bucket.
   */
  p50Ms: number | string | null;
  p99Ms: number | string | null;
  verdicts: Record<string, number>;
  timeouts: number;
  errors: number;
  restarts: number;
}

/** The q-quantile's bucket bound in ms, from the buckets summed over hooks. */
function quantile(buckets: number[], total: number, q: number): number | string | null {
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < BOUNDS.length; i++) {
    seen += buckets[i];
    if (seen >= q * total) return BOUNDS[i] * 1000;
  }
  return `>${BOUNDS[BOUNDS.length - 1] * 1000}`;
}

/** Figures by plugin name, or null when the host keeps none. */
export function pluginFigures(host: PluginHost | undefined): Map<string, PluginFigures> | null {
  const stats = (host as unknown as { stats?: () => HostStats[] } | undefined)?.stats;
  if (!host || typeof stats !== "function") return null;
  const out = new Map<string, PluginFigures>();
  for (const p of stats.call(host)) {
    const sum = new Array(BOUNDS.length + 1).fill(0);
    let calls = 0;
    for (const f of Object.values(p.calls)) {
      if (!f) continue;
      calls += f.calls;
      f.buckets.forEach((n, i) => sum[i] += n);
    }
    const verdicts: Record<string, number> = {};
    for (const [k, v] of Object.entries(p.verdicts)) if (v) verdicts[k] = v;
    out.set(p.name, {
      calls,
      p50Ms: quantile(sum, calls, 0.5),
      p99Ms: quantile(sum, calls, 0.99),
      verdicts,
      timeouts: p.timeouts,
      errors: p.errors,
      restarts: p.restarts,
    });
  }
  return out;
}
