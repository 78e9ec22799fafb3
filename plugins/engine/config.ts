/**
 * What the plugin engine needs to know of one configured plugin: its module, sandbox grant,
 * limits and options. core/config.ts reads `[[plugins]]` into these; the engine defines
 * them so that it imports nothing from core/.
 *
 * @module
 */

export interface PluginPermissions {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
  run: string[];
  ffi: string[];
  sys: string[];
}

export interface PluginConfig {
  name: string;
  /** Resolved: absolute path, file: URL, or builtin:<name>. */
  module: string;
  permissions: PluginPermissions;
  timeoutMs: number;
  memoryMb: number;
  onError: "tempfail" | "continue";
  options: Record<string, unknown>;
  /**
   * Plugins with the same group share one sandbox process (same grant and memory_mb
   * required): one round trip per message for consecutive ones, but no isolation from
   * each other. Unset: a process of its own.
   */
  group?: string;
  /**
   * How many sandbox processes run this plugin (or its group); calls go to the one with
   * the fewest in flight, so a busy plugin can use more than one core.
   */
  processes: number;
  /**
   * Host-service limits (issue 13, item 13): the kv area and DNS lookups in flight. Unset
   * (a plugin made by hand, e.g. `plugin check`): PLUGIN_LIMITS.
   */
  kvMaxBytes?: number;
  kvMaxKeys?: number;
  kvMaxValueBytes?: number;
  dnsMaxInFlight?: number;
}

/** Defaults of the per-plugin host-service limits. */
export const PLUGIN_LIMITS = {
  kvMaxBytes: 64 * 1024 * 1024,
  kvMaxKeys: 1_000_000,
  kvMaxValueBytes: 1024 * 1024,
  dnsMaxInFlight: 64,
} as const;
