/**
 * The HTTP listener: health and metrics for operators (webmail and the admin API come with
 * their own issue). Loopback by default (`listeners.http`).
 *
 * - `GET /healthz`: 200 when storage answers, else 503 (for load balancers and systemd).
 * - `GET /metrics`: Prometheus text format 0.0.4.
 *
 * May import `core/`, `storage/`, `lib/`; never another protocol.
 *
 * @module
 */
import type { HostPort } from "../../core/config.ts";
import type { ServerDeps } from "../../core/deps.ts";
import { log } from "../../lib/log.ts";

/** Gauges the server exposes, read at scrape time. */
export interface ServerGauges {
  /** Open connections per listener name. */
  connections(): Record<string, number>;
}

export interface HttpListener {
  port: number;
  stop(): Promise<void>;
}

const started = Date.now();

async function metrics(deps: ServerDeps, gauges: ServerGauges): Promise<string> {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
  };
  gauge("denomail_up", "1 while the server runs.", [["", 1]]);
  gauge("denomail_uptime_seconds", "Seconds since the server started.", [[
    "",
    Math.round((Date.now() - started) / 1000),
  ]]);
  gauge(
    "denomail_connections",
    "Open client connections per listener.",
    Object.entries(gauges.connections()).map(([l, n]) => [`{listener="${l}"}`, n]),
  );
  const queue = await deps.store.listQueue();
  gauge("denomail_queue_entries", "Messages in the outbound queue.", [["", queue.length]]);
  gauge("denomail_accounts", "User accounts.", [["", (await deps.store.listAccounts()).length]]);
  gauge("denomail_domains", "Local domains.", [["", (await deps.store.listDomains()).length]]);
  return lines.join("\n") + "\n";
}

/** Starts the HTTP listener on `address`. */
export function startHttp(
  deps: ServerDeps,
  address: HostPort,
  gauges: ServerGauges,
): Promise<HttpListener> {
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: address.host,
    port: address.port,
    onListen: (a) => ready.resolve((a as Deno.NetAddr).port),
    onError: (e) => {
      log.error("http", `request failed: ${(e as Error).message}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, async (req) => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    switch (url.pathname) {
      case "/healthz":
        try {
          await deps.store.listDomains();
          return Response.json({ status: "ok" });
        } catch (e) {
          return Response.json({ status: "error", error: (e as Error).message }, { status: 503 });
        }
      case "/metrics":
        return new Response(await metrics(deps, gauges), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      default:
        return new Response("not found\n", { status: 404 });
    }
  });
  return ready.promise.then((port) => {
    log.info("http", `listening on ${address.host}:${port}`);
    return { port, stop: () => server.shutdown() };
  });
}
