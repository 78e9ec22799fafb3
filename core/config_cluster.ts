/**
 * `[cluster]` of the config (README "Running several nodes"): who this node is, and how long
 * its claim on a queue entry lasts. Kept apart from config.ts so that file stays small; it is
 * given the table reader and the error to throw, so it imports nothing of config.ts.
 *
 * @module
 */

/** `[cluster]`: who this node is, and how long its claim on a queue entry lasts. */
export interface ClusterConfig {
  /** Unique per node (default: the machine's host name). */
  node: string;
  /** A claimed queue entry is this node's for this long, renewed while it delivers. */
  queueLeaseMs: number;
  /** The node's name is this process's for this long, renewed while it runs (node_lease.ts). */
  nodeLeaseMs: number;
}

/** What is used of config.ts's TableReader. */
interface Reader {
  string(k: string, def: string): string;
  duration(k: string, def: string): number;
  rejectUnknown(): void;
}

/** [cluster]: node = "name" (unique per node), queue_lease = "60s", node_lease = "15s". */
export function readCluster(t: Reader, fail: (message: string) => never): ClusterConfig {
  const node = t.string("node", defaultNodeName());
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(node)) {
    fail(`config: cluster.node must be 1-64 letters, digits, ".", "_" or "-"`);
  }
  const queueLeaseMs = t.duration("queue_lease", "60s");
  if (queueLeaseMs < 3000) fail(`config: cluster.queue_lease must be at least "3s"`);
  const nodeLeaseMs = t.duration("node_lease", "15s");
  if (nodeLeaseMs < 3000) fail(`config: cluster.node_lease must be at least "3s"`);
  t.rejectUnknown();
  return { node, queueLeaseMs, nodeLeaseMs };
}

/** The machine's host name, shortened to what cluster.node allows. */
function defaultNodeName(): string {
  let name = "node";
  try {
    name = Deno.hostname();
  } catch { /* no --allow-sys: keep "node" */ }
  return name.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64) || "node";
}
