/**
 * OpenPGP key status per user (console Users page; CLI `user key show`): the key kept by
 * `builtin:encrypt` in its plugin kv area, under whatever name that plugin is configured.
 *
 * @module
 */
import type { PluginConfig } from "../config.ts";
import { kvNamespace } from "../../plugins/engine/services.ts";
import { describeKey, kvKeyFor, readStoredKey } from "../../plugins/builtin/encrypt/keys.ts";
import type { Store } from "../../storage/mod.ts";

/** The kv namespace of the configured `builtin:encrypt` (under any name), else `plugin:encrypt`. */
export function encryptNamespace(plugins: readonly PluginConfig[]): string {
  const p = plugins.find((p) => p.module === "builtin:encrypt");
  return kvNamespace(p?.name ?? "encrypt");
}

export interface KeyStatus {
  fingerprint: string;
  algorithm: string;
  /** ISO 8601, or null when the key does not expire. */
  expires: string | null;
}

/** The user's key, or null when none is stored; a stored key that does not parse says so. */
export async function keyStatus(
  store: Store,
  namespace: string,
  email: string,
): Promise<KeyStatus | null> {
  const stored = await store.kvGet(namespace, kvKeyFor(email));
  if (!stored) return null;
  try {
    const info = await describeKey(await readStoredKey(stored));
    return {
      fingerprint: info.fingerprint,
      algorithm: info.algorithm,
      expires: info.expires ? info.expires.toISOString() : null,
    };
  } catch (e) {
    return { fingerprint: "(unreadable)", algorithm: (e as Error).message, expires: null };
  }
}
