/**
 * The web listeners: `http` (plain) and `https` (TLS with the server's certificate), one
 * route table for both (router.ts): /healthz and /metrics for operators (ops.ts) and JMAP
 * (jmap/). The webmail and the admin API come with their own issues.
 *
 * @module
 */
import type { HostPort } from "../../core/config.ts";
import type { ServerDeps } from "../../core/deps.ts";
import { normalizeAddress } from "../../core/connection.ts";
import { log } from "../../lib/log.ts";
import { addOperatorRoutes, type ServerGauges } from "./ops.ts";
import { Router, text } from "./router.ts";
import { addJmapRoutes } from "./jmap/mod.ts";

export type { ServerGauges } from "./ops.ts";

export interface HttpListener {
  port: number;
  stop(): Promise<void>;
}

/** The route table both web listeners serve. Build it once: its limits are shared. */
export function webRoutes(deps: ServerDeps, gauges: ServerGauges): Router {
  const router = new Router();
  addOperatorRoutes(router, deps, gauges);
  addJmapRoutes(router, deps);
  return router;
}

/**
 * Starts one web listener on `address`; with `tls` (PEM cert and key) it is the https one.
 * The certificate is read at start: a renewed one is served after a restart.
 */
export function startHttp(
  router: Router,
  address: HostPort,
  opts: { tls?: { cert: string; key: string } } = {},
): Promise<HttpListener> {
  const name = opts.tls ? "https" : "http";
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: address.host,
    port: address.port,
    ...(opts.tls ?? {}),
    onListen: (a) => ready.resolve((a as Deno.NetAddr).port),
    onError: (e) => {
      log.error(name, `request failed: ${(e as Error).message}`);
      return text(500, "internal error\n");
    },
  }, (req, info) => {
    const url = new URL(req.url);
    const ip = normalizeAddress((info.remoteAddr as Deno.NetAddr).hostname);
    return router.handle({ req, url, ip, secure: !!opts.tls, id: crypto.randomUUID().slice(0, 8) });
  });
  return ready.promise.then((port) => {
    log.info(name, `listening on ${address.host}:${port}`);
    return { port, stop: () => server.shutdown() };
  });
}
