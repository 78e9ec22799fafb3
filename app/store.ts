/**
 * Opens the Store the configuration asks for: turns `[storage]` and `data_dir` into the
 * settings storage/open.ts takes (storage reads no config of its own).
 *
 * @module
 */
import type { Config } from "../core/config.ts";
import type { Store } from "../storage/mod.ts";
import { openStore } from "../storage/open.ts";

/**
 * Opens the configured backend. `inlineWrites`: commit on the calling thread instead of in
 * the writer worker — for the CLI and other short-lived processes.
 */
export function openConfiguredStore(
  config: Config,
  opts: { inlineWrites?: boolean } = {},
): Promise<Store> {
  return openStore({
    backend: config.storage.backend,
    dataDir: config.dataDir,
    url: config.storage.url,
    migrationBackup: {
      maxBytes: config.storage.preMigrationBackupMaxBytes,
      skip: config.storage.skipMigrationBackup ?? false,
    },
    ...opts,
  });
}
