/**
 * Operator endpoints: `GET /healthz` (200 when storage answers, else 503, for load
 * balancers and systemd) and `GET /metrics` (Prometheus text format 0.0.4).
 *
 * @module
 */
import type { ServerDeps } from "../../core/deps.ts";
import type { Router } from "./router.ts";

/** Gauges the server exposes, read at scrape time. */
export interface ServerGauges {
  /** Open connections per listener name. */
  connections(): Record<string, number>;
  /** Bound port per listener name (the config may say port 0). */
  ports?(): Record<string, number>;
}

/** The `/metrics` text (the admin API's `GET server` shows the same samples). */
export async function metrics(
  deps: ServerDeps,
  gauges: ServerGauges,
  started: number,
): Promise<string> {
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

/** Adds /healthz and /metrics to `router`. */
export function addOperatorRoutes(router: Router, deps: ServerDeps, gauges: ServerGauges): void {
  const started = Date.now();
  router.route("/healthz", ["GET"], async () => {
    try {
      await deps.store.listDomains();
      return Response.json({ status: "ok" });
    } catch (e) {
      return Response.json({ status: "error", error: (e as Error).message }, { status: 503 });
    }
  });
  router.route("/metrics", ["GET"], async () =>
    new Response(await metrics(deps, gauges, started), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));
}
