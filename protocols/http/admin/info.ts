/**
 * Read-only views of the running server for the admin API: listeners, certificate,
 * version, uptime, storage size, and the plugins with their state and grants.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import type { ServerDeps } from "../../../core/deps.ts";
import { formatHostPort } from "../../../core/config.ts";
import { VERSION } from "../../../core/version.ts";
import { metrics, type ServerGauges } from "../ops.ts";
import { pluginFigures } from "./plugin_stats.ts";

/** Files looked at when adding up the data dir (a bound, not an expected size). */
const MAX_FILES = 100_000;

/** Bytes under `dir` (files only, symlinks not followed), stopping after MAX_FILES files. */
async function directorySize(dir: string): Promise<{ bytes: number; complete: boolean }> {
  let bytes = 0;
  let files = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    try {
      for await (const e of Deno.readDir(d)) {
        const path = join(d, e.name);
        if (e.isDirectory) stack.push(path);
        else if (e.isFile) {
          if (++files > MAX_FILES) return { bytes, complete: false };
          bytes += (await Deno.lstat(path).catch(() => ({ size: 0 }))).size;
        }
      }
    } catch {
      // A folder that vanished or cannot be read: counted as empty.
    }
  }
  return { bytes, complete: true };
}

function certificate(pem: string) {
  try {
    const x = new X509Certificate(pem);
    return {
      subject: x.subject.replaceAll("\n", ", "),
      issuer: x.issuer.replaceAll("\n", ", "),
      notAfter: new Date(x.validTo).toISOString(),
      selfSigned: x.issuer === x.subject && x.verify(x.publicKey),
      subjectAltName: x.subjectAltName ?? null,
    };
  } catch {
    return null;
  }
}

/** The samples of Prometheus text: `name{labels} value` lines, comments skipped. */
function samples(text: string): Array<{ name: string; value: number }> {
  const out = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.push({ name: line.slice(0, at), value: Number(line.slice(at + 1)) });
  }
  return out;
}

/** `GET /api/admin/server`. */
export async function serverView(deps: ServerDeps, gauges: ServerGauges, started: number) {
  const connections = gauges.connections();
  const ports = gauges.ports?.() ?? {};
  const listeners = Object.entries(deps.config.listeners)
    .filter(([, address]) => address)
    .map(([name, address]) => ({
      name,
      address: formatHostPort(address!),
      port: ports[name] ?? address!.port,
      connections: connections[name] ?? 0,
    }));
  return {
    hostname: deps.config.hostname,
    version: VERSION,
    startedAt: new Date(started).toISOString(),
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    listeners,
    certificate: certificate(deps.tls.certPem),
    storage: {
      backend: deps.config.storage.backend,
      dataDir: deps.config.dataDir,
      ...(await directorySize(deps.config.dataDir)),
    },
    metrics: samples(await metrics(deps, gauges, started)),
  };
}

/**
 * `GET /api/admin/plugins`: what the plugin host exposes, with each plugin's grant and its
 * figures (calls, p50/p99, verdicts) when the host keeps them (`figures` says whether).
 */
export function pluginsView(deps: ServerDeps) {
  const figures = pluginFigures(deps.plugins);
  return {
    plugins: pluginList(deps).map((p) => ({ ...p, figures: figures?.get(p.name) ?? null })),
    figures: figures !== null,
  };
}

function pluginList(deps: ServerDeps) {
  const list = deps.plugins?.list() ?? [];
  const running = new Map(list.map((p) => [p.name, p]));
  const configured = new Set(deps.config.plugins.map((c) => c.name));
  // Plugins added by a reload (SIGHUP) run without being in the config read at start.
  const added = list.filter((p) => !configured.has(p.name)).map((p) => ({ ...p }));
  return [
    ...deps.config.plugins.map((c) => {
      const p = running.get(c.name);
      return {
        name: c.name,
        module: c.module,
        state: p?.state ?? "not loaded",
        hooks: p?.hooks ?? [],
        error: p?.error ?? null,
        permissions: c.permissions,
        timeoutMs: c.timeoutMs,
        onError: c.onError,
        processes: c.processes,
      };
    }),
    ...added,
  ];
}
