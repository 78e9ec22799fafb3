/**
 * A plugin's kv area straight on the store, for host code that manages a plugin's data
 * while it runs (the CLI's `sieve put`, ManageSieve): the same keys the plugin reads through
 * `ctx.kv` (namespace `plugin:<name>`, services.ts).
 *
 * @module
 */
import type { PluginConfig } from "./config.ts";
import { kvNamespace } from "./services.ts";
import type { Store } from "../../storage/mod.ts";

/** The get/set/delete part of the SDK's kv. */
export interface StoreKv {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The name of the configured plugin of `module`, or `fallback` when none is configured. */
export function pluginNameFor(
  plugins: readonly PluginConfig[],
  module: string,
  fallback: string,
): string {
  return plugins.find((p) => p.module === module)?.name ?? fallback;
}

/** The kv area of plugin `name`. */
export function pluginStoreKv(store: Store, name: string): StoreKv {
  const ns = kvNamespace(name);
  return {
    get: (k) => store.kvGet(ns, k),
    set: (k, v) => store.kvSet(ns, k, v),
    delete: (k) => store.kvDelete(ns, k),
  };
}
