/**
 * What every CLI command gets: parsed args, a lazily loaded config and store, and output.
 *
 * @module
 */
import { type Config, loadConfig } from "../core/config.ts";
import type { Store } from "../storage/mod.ts";
import { openConfiguredStore } from "../app/store.ts";
import type { ParsedArgs } from "./args.ts";
import type { AdminContext } from "../core/admin/context.ts";
import { readCertInUse } from "../core/admin/dns_records.ts";
import { encryptNamespace } from "../core/admin/keys.ts";

export class CliContext {
  #config: Config | null = null;
  #store: Store | null = null;

  constructor(readonly args: ParsedArgs) {}

  async config(): Promise<Config> {
    this.#config ??= await loadConfig(this.args.values.get("--config") ?? null);
    return this.#config;
  }

  /**
   * Opens the store. Inline writes (synchronous, still durable) suit one command; bulk jobs
   * (import) ask for `groupCommit` so that concurrent writes share commits.
   */
  async store(opts: { groupCommit?: boolean } = {}): Promise<Store> {
    if (!this.#store) {
      const config = await this.config();
      await Deno.mkdir(config.dataDir, { recursive: true });
      this.#store = await openConfiguredStore(config, { inlineWrites: !opts.groupCommit });
    }
    return this.#store;
  }

  /** The context of the shared admin operations (core/admin/); the CLI audits as "cli". */
  async admin(): Promise<AdminContext> {
    const config = await this.config();
    const store = await this.store();
    return {
      store,
      hostname: config.hostname,
      dataDir: config.dataDir,
      actor: { who: "cli", ip: "" },
      certPem: () => readCertInUse(config),
      dns: config.dns,
      mtaSts: config.mtaSts,
      keyNamespace: encryptNamespace(config.plugins),
    };
  }

  async close(): Promise<void> {
    await this.#store?.close();
    this.#store = null;
  }

  print(line: string): void {
    console.log(line);
  }
}
