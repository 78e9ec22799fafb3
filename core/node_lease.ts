/**
 * One live process per `[cluster] node` name: a named lease (`node:<name>`, the Store's
 * `tryLease`; PostgreSQL: a row of `leases` every node sees) taken before the listeners open
 * and renewed every third of `cluster.node_lease` while the server runs.
 *
 * A node that finds its name held waits, retrying, for up to one lease period plus a second:
 * when the holder died (kill -9, power loss) its lease runs out meanwhile and the new
 * process takes the name over; when the holder is alive it keeps renewing, and the start is
 * refused (a ConfigError: exit 2, one line naming `cluster.node`). A graceful stop releases
 * the name at once. A renewal that finds the name taken (this node lost the database for
 * longer than the lease and another process took its name) calls `onLost`, which stops this
 * server: two processes never keep serving under one name.
 *
 * On SQLite the leases live in the one process that owns the data dir, so this only ever
 * guards against itself (one process per data dir is enforced elsewhere).
 *
 * @module
 */
import type { Store } from "../storage/mod.ts";
import { ConfigError } from "./config.ts";
import { log } from "../lib/log.ts";

/** How often a start whose name is held asks again. */
const RETRY_MS = 500;

export class NodeLease {
  #timer: ReturnType<typeof setInterval> | undefined;
  #released = false;

  private constructor(
    private readonly store: Store,
    private readonly name: string,
    private readonly holder: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Takes the node's name (waiting out a dead holder's lease), or throws ConfigError when a
   * live process holds it. `onLost`: called once if the name is lost while running.
   */
  static async acquire(
    store: Store,
    node: string,
    opts: { leaseMs: number; now?: () => number; onLost: () => void },
  ): Promise<NodeLease> {
    const now = opts.now ?? Date.now;
    const l = new NodeLease(
      store,
      `node:${node}`,
      `${node}/${crypto.randomUUID()}`,
      opts.leaseMs,
      now,
    );
    const giveUp = now() + opts.leaseMs + 1000;
    let waiting = false;
    while (!await l.#take()) {
      if (now() >= giveUp) {
        throw new ConfigError(
          `cluster.node "${node}" is in use by another running node (each node needs its own name)`,
        );
      }
      if (!waiting) {
        waiting = true;
        log.warn(
          "cluster",
          `cluster.node "${node}" is held by another process; waiting for its lease to end`,
          {
            lease_ms: opts.leaseMs,
          },
        );
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    if (waiting) log.info("cluster", `cluster.node "${node}": took the name over`);
    l.#timer = setInterval(() => l.#renew(opts.onLost), Math.max(1000, opts.leaseMs / 3));
    return l;
  }

  #take(): Promise<boolean> {
    const t = this.now();
    return this.store.tryLease(this.name, this.holder, t, t + this.leaseMs);
  }

  /** tryLease by the holder itself extends it, and says whether it is still ours. */
  #renew(onLost: () => void): void {
    this.#take().then((ours) => {
      if (ours || this.#released) return;
      clearInterval(this.#timer);
      log.error(
        "cluster",
        `cluster.node "${this.name.slice(5)}" was taken by another process; stopping`,
      );
      onLost();
    }).catch((e) => {
      // The database is away: the lease runs on, and the next renewal tries again.
      log.warn("cluster", "could not renew the node lease", { error: (e as Error).message });
    });
  }

  /** Gives the name up (a graceful stop): a new process may take it at once. */
  async release(): Promise<void> {
    this.#released = true;
    clearInterval(this.#timer);
    await this.store.releaseLease(this.name, this.holder).catch((e) => {
      log.warn("cluster", "could not release the node lease", { error: (e as Error).message });
    });
  }
}
