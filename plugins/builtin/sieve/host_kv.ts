/**
 * The host side's view of builtin:sieve's kv area (namespace `plugin:<name>` of the
 * configured `builtin:sieve`, "sieve" when none is), for the CLI (`sieve put`) and
 * ManageSieve: both write the keys the plugin reads at delivery (scripts.ts).
 *
 * @module
 */
import type { PluginConfig } from "../../engine/config.ts";
import { kvNamespace } from "../../engine/services.ts";
import type { Store } from "../../../storage/mod.ts";
import type { ScriptKv } from "./scripts.ts";

/** The sieve plugin's name in `plugins` (its kv namespace). */
export function sievePluginName(plugins: readonly PluginConfig[]): string {
  return plugins.find((p) => p.module === "builtin:sieve")?.name ?? "sieve";
}

/** The script kv of the configured sieve plugin, straight on the store. */
export function sieveKv(store: Store, plugins: readonly PluginConfig[]): ScriptKv {
  const ns = kvNamespace(sievePluginName(plugins));
  return {
    get: (k) => store.kvGet(ns, k),
    set: (k, v) => store.kvSet(ns, k, v),
    delete: (k) => store.kvDelete(ns, k),
  };
}
