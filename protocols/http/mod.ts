/**
 * The web listeners: `http` (plain) and `https` (TLS with the server's certificate), one
 * route table for both (router.ts): /healthz and /metrics for operators (ops.ts), JMAP
 * (jmap/), the webmail at `/` (web/) and the admin API (admin/).
 *
 * Deno.serve takes the certificate as PEM at start, so when core/tls.ts reloads it the
 * https listener starts again on the same address with the new pair: requests under way
 * finish on the old server, new connections get the new certificate.
 *
 * May import `core/`, `storage/`, `lib/`; never another protocol.
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
import { addWebmailRoutes } from "./web/mod.ts";
import { addAdminRoutes } from "./admin/mod.ts";
import { addWellKnownRoutes } from "./well_known.ts";
import { addAutoconfigRoutes } from "./autoconfig/mod.ts";
import { type AlpnChallenges, startAlpnFront } from "./alpn_front.ts";
import { addSignupRoutes } from "./admin/signup.ts";

export type { ServerGauges } from "./ops.ts";

export interface HttpListener {
  port: number;
  stop(): Promise<void>;
}

/** What the https listener needs of core/tls.ts's TlsProvider. */
export interface PemSource {
  readonly certPem: string;
  readonly keyPem: string;
  onReload(fn: () => void): () => void;
}

/** The route table both web listeners serve. Build it once: its limits are shared. */
export function webRoutes(deps: ServerDeps, gauges: ServerGauges): Router {
  const router = new Router();
  addOperatorRoutes(router, deps, gauges);
  addJmapRoutes(router, deps);
  addWebmailRoutes(router, deps);
  addAdminRoutes(router, deps, gauges);
  addWellKnownRoutes(router, deps);
  addAutoconfigRoutes(router, deps);
  addSignupRoutes(router, deps);
  return router;
}

/** How long a restart after a certificate reload keeps trying to bind the address again. */
const REBIND_TRIES = 50;
const REBIND_WAIT_MS = 20;

/** Starts one web listener on `address`; with `tls` it is the https one. */
export async function startHttp(
  router: Router,
  address: HostPort,
  opts: { tls?: PemSource; acmeAlpn?: AlpnChallenges } = {},
): Promise<HttpListener> {
  const name = opts.tls ? "https" : "http";
  // TLS-ALPN-01: a front on the address relays to this server on loopback (alpn_front.ts).
  let innerPort = 0;
  const front = opts.tls && opts.acmeAlpn
    ? startAlpnFront(address, () => innerPort, opts.acmeAlpn)
    : null;
  const serve = (port: number) => {
    const ready = Promise.withResolvers<number>();
    const server = Deno.serve({
      hostname: front ? "127.0.0.1" : address.host,
      port,
      ...(opts.tls ? { cert: opts.tls.certPem, key: opts.tls.keyPem } : {}),
      onListen: (a) => ready.resolve((a as Deno.NetAddr).port),
      onError: (e) => {
        log.error(name, `request failed: ${(e as Error).message}`);
        return text(500, "internal error\n");
      },
    }, (req, info) => {
      const url = new URL(req.url);
      const remote = info.remoteAddr as Deno.NetAddr;
      const ip = normalizeAddress(front?.peerOf(remote.port) ?? remote.hostname);
      const id = crypto.randomUUID().slice(0, 8);
      return router.handle({ req, url, ip, secure: !!opts.tls, id });
    });
    return { server, port: ready.promise };
  };
  let current = serve(front ? 0 : address.port);
  const port = innerPort = await current.port;
  log.info(name, `listening on ${address.host}:${front?.port ?? port}`);
  const draining = new Set<Promise<void>>();
  let stopped = false;
  let restarting = Promise.resolve();
  const restart = async () => {
    if (stopped) return;
    const old = current.server;
    const done = old.shutdown(); // stops accepting now; requests under way finish
    draining.add(done);
    done.finally(() => draining.delete(done)).catch(() => {});
    for (let i = 0;; i++) {
      try {
        current = serve(port);
        await current.port;
        log.info(
          name,
          `serving the reloaded certificate on ${address.host}:${front?.port ?? port}`,
        );
        return;
      } catch (e) {
        if (!(e instanceof Deno.errors.AddrInUse) || i >= REBIND_TRIES) {
          log.error(name, `cannot listen again after the certificate reload: ${e}`);
          return;
        }
        await new Promise((r) => setTimeout(r, REBIND_WAIT_MS));
      }
    }
  };
  const unsubscribe = opts.tls?.onReload(() => {
    restarting = restarting.then(restart);
  });
  return {
    port: front?.port ?? port,
    async stop() {
      stopped = true;
      unsubscribe?.();
      router.stopStreams();
      await restarting;
      await Promise.all([current.server.shutdown(), ...draining]);
      front?.stop(); // after the server behind it has answered what it had
    },
  };
}
