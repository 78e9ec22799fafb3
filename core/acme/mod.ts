/**
 * ACME (RFC 8555) for the server's own names: the manager (issuance and renewal), the
 * challenges the web listeners answer, and the start-up step that completes an
 * interrupted certificate swap before the TLS pair is loaded.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { acmePaths, finishSwap } from "./files.ts";
import { AcmeManager, type Reloadable } from "./manager.ts";

export { AcmeManager };
export type { AcmeChallenges } from "./challenges.ts";

/** Before TlsProvider.load(): finishes a swap a crash cut short. */
export async function prepareAcme(config: Config): Promise<void> {
  if (config.acme) await finishSwap(acmePaths(config.dataDir));
}

/** The manager for [acme], or undefined when ACME is not configured. Call start() later. */
export function acmeManager(
  config: Config,
  tls: Reloadable,
  now: () => number,
): AcmeManager | undefined {
  return config.acme ? new AcmeManager(config.acme, config.dataDir, tls, now) : undefined;
}
