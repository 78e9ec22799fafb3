/**
 * How `denomail plugin reload` reaches a running `serve`: serve writes its pid to
 * `data_dir/denomail.pid`; the CLI sends it SIGHUP; serve re-reads the config's
 * `[[plugins]]`, restarts the plugin processes, and writes the outcome to
 * `data_dir/plugins-reload.json`, which the CLI waits for and prints.
 *
 * `denomail plugin list` asks the same way for the plugins' figures: SIGUSR1, answered in
 * `data_dir/plugins-stats.json` (PluginHost.stats of the running server).
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../core/config.ts";
import type { PluginStats } from "../plugins/engine/metrics.ts";

/** The pid file of a running serve. */
export function pidFile(config: Config): string {
  return join(config.dataDir, "denomail.pid");
}

/** Where serve reports each plugin reload. */
export function reloadStatusFile(config: Config): string {
  return join(config.dataDir, "plugins-reload.json");
}

/** What serve reports after a reload. */
export interface ReloadStatus {
  pid: number;
  /** Counts reloads of this serve process (1 for the first). */
  seq: number;
  at: number;
  ok: boolean;
  error?: string;
  plugins: Array<{ name: string; hooks: string[] }>;
}

/** Reads the last reload status, or null when there is none (or it is unreadable). */
export function readReloadStatus(config: Config): Promise<ReloadStatus | null> {
  return readJson<ReloadStatus>(reloadStatusFile(config));
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

/** Writes the status atomically (write a temp file, rename), so a reader never sees half. */
export function writeReloadStatus(config: Config, status: ReloadStatus): Promise<void> {
  return writeJsonAtomic(reloadStatusFile(config), status);
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value) + "\n");
  await Deno.rename(tmp, path);
}

/** Writes this process's pid file. */
export async function writePidFile(config: Config): Promise<void> {
  await Deno.writeTextFile(pidFile(config), `${Deno.pid}\n`);
}

/** Removes the pid file if it is still ours. */
export async function removePidFile(config: Config): Promise<void> {
  try {
    const text = await Deno.readTextFile(pidFile(config));
    if (Number(text.trim()) === Deno.pid) await Deno.remove(pidFile(config));
  } catch { /* gone already */ }
}

/** The pid in the pid file, or null. */
export async function readPid(config: Config): Promise<number | null> {
  try {
    const n = Number((await Deno.readTextFile(pidFile(config))).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Where serve answers SIGUSR1 with its plugins' figures. */
export function statsFile(config: Config): string {
  return join(config.dataDir, "plugins-stats.json");
}

/** What serve writes there. */
export interface StatsReport {
  pid: number;
  /** Date.now() when written. */
  at: number;
  plugins: PluginStats[];
}

/** Reads the last stats report, or null. */
export function readStats(config: Config): Promise<StatsReport | null> {
  return readJson<StatsReport>(statsFile(config));
}

/** Writes a stats report atomically. */
export function writeStats(config: Config, report: StatsReport): Promise<void> {
  return writeJsonAtomic(statsFile(config), report);
}
