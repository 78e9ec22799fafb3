/**
 * Runs `Store.pruneHistory` (storage/sqlite/retention.ts) on a timer with the `[storage]`
 * limits: once shortly after the start, then every `prune_interval`. A failure is logged and
 * retried at the next tick; the server stops the timer (and waits for a run under way)
 * before it closes the store.
 *
 * @module
 */
import type { Config } from "../core/config.ts";
import type { Store } from "../storage/mod.ts";
import { log } from "../lib/log.ts";

/** Delay of the first run: the start itself stays quick. */
const FIRST_RUN_MS = 30_000;

export function startPruner(store: Store, storage: Config["storage"]): { stop(): Promise<void> } {
  const prune = store.pruneHistory.bind(store);
  let running: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = () => {
    running = prune(storage.retention).then((r) => {
      if (r.expunged + r.changeLog + r.audit > 0) log.info("storage", "history pruned", { ...r });
    }).catch((e) => {
      log.warn("storage", "pruning the history failed", { error: (e as Error).message });
    }).finally(() => {
      if (!stopped) timer = setTimeout(tick, storage.pruneIntervalMs);
    });
  };
  timer = setTimeout(tick, Math.min(FIRST_RUN_MS, storage.pruneIntervalMs));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
