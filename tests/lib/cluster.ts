/**
 * Several `serve` processes on one private PostgreSQL cluster, the way an admin runs
 * several nodes: one config file and data_dir per node (its TLS certificate), one database
 * URL, `[cluster] node` set per node.
 *
 * @module
 */
import { type PostgresCluster, startPostgres } from "./postgres.ts";
import {
  addUserCli,
  configToml,
  type ServerProcess,
  startServerProcess,
} from "./server_process.ts";

/** One node: its config file and its running process (restartable). */
export interface Node {
  name: string;
  dir: string;
  configPath: string;
  proc: ServerProcess;
  port(listener: string): number;
  /** Starts the node again after a kill or stop. */
  restart(): Promise<void>;
}

/** A running cluster of nodes. */
export interface Cluster {
  pg: PostgresCluster;
  nodes: Node[];
  /** Stops every node and the database, removes temp dirs. */
  stop(): Promise<void>;
  /** Each node's state (running or its exit) and the last `chars` of its log, for a failure. */
  describe(chars?: number): string;
}

/**
 * Starts PostgreSQL and `names.length` nodes serving `listen`, adds `users` through the first
 * node's CLI. `tables`: extra TOML after `[cluster]` (e.g. `[delivery]`, `[dns]`).
 */
export async function startCluster(opts: {
  names: string[];
  listen: string[];
  users: Array<[email: string, password: string]>;
  tables?: string;
  queueLease?: string;
  pg?: PostgresCluster;
}): Promise<Cluster> {
  const pg = opts.pg ?? await startPostgres();
  const nodes: Node[] = [];
  const stop = async () => {
    for (const n of nodes) await n.proc.kill().catch(() => {});
    await pg.stop();
    for (const n of nodes) await Deno.remove(n.dir, { recursive: true }).catch(() => {});
  };
  try {
    for (const name of opts.names) {
      const dir = await Deno.makeTempDir({ prefix: `denomail-node-${name}-` });
      const configPath = `${dir}/denomail.toml`;
      const tables = `[storage]\nbackend = "postgres"\nurl = "${pg.url}"\n` +
        `[cluster]\nnode = "${name}"\nqueue_lease = "${opts.queueLease ?? "60s"}"\n` +
        (opts.tables ?? "");
      await Deno.writeTextFile(configPath, configToml(`${dir}/data`, opts.listen, { tables }));
      if (nodes.length === 0) {
        for (const [email, pw] of opts.users) await addUserCli(configPath, email, pw);
      }
      const node: Node = {
        name,
        dir,
        configPath,
        proc: await startServerProcess(configPath, opts.listen),
        port(listener) {
          const p = node.proc.ports[listener];
          if (!p) throw new Error(`node ${name} has no ${listener} listener`);
          return p;
        },
        async restart() {
          node.proc = await startServerProcess(configPath, opts.listen);
        },
      };
      nodes.push(node);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const describe = (chars = 3000) =>
    nodes.map((n) => {
      const s = n.proc.exited();
      const state = s ? `exited (code ${s.code}, signal ${s.signal})` : "running";
      return `--- node ${n.name}: ${state}; log tail:\n${n.proc.log().slice(-chars)}`;
    }).join("\n");
  return { pg, nodes, stop, describe };
}
