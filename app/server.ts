/**
 * Server lifecycle: open storage, load TLS, start every configured listener, stop cleanly.
 *
 * @module
 */
import { ActivityLog } from "../core/activity.ts";
import type { Config, ListenerName } from "../core/config.ts";
import { formatHostPort } from "../core/config.ts";
import type { ProtocolHandler, ServerDeps } from "../core/deps.ts";
import { Listener } from "../core/listener.ts";
import { ensureTlsFiles, TlsProvider } from "../core/tls.ts";
import { Authenticator, throttleLimits } from "../core/auth.ts";
import { loadAuthSecret } from "../core/auth/secret.ts";
import { Router } from "../core/router.ts";
import { loadSrsSecret, Srs } from "../core/srs.ts";
import { log } from "../lib/log.ts";
import type { Store } from "../storage/mod.ts";
import { startPruner } from "./retention.ts";
import { openConfiguredStore } from "./store.ts";
import { smtpHandler } from "../protocols/smtp/mod.ts";
import { imapHandler } from "../protocols/imap/mod.ts";
import { pop3Handler } from "../protocols/pop3/mod.ts";
import { manageSieveHandler } from "../protocols/managesieve/mod.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { QueueRunner } from "../core/queue/runner.ts";
import { scheduleReports } from "../core/reports/mod.ts";
import { createResolver } from "../core/dns.ts";
import { pluginDnsLookup } from "../core/plugin_dns.ts";
import { ChangeHub } from "../core/change_hub.ts";
import { UserSessions } from "../core/user_sessions.ts";
import { MaildropLocks } from "../core/maildrop_lock.ts";
import { NodeLease } from "../core/node_lease.ts";
import { RecentTracker } from "../core/recent.ts";
import { HookState } from "../core/hook_state.ts";
import { MailboxKeywords } from "../core/mailbox_keywords.ts";
import { smtpSender } from "../protocols/smtp/client/client.ts";
import { type HttpListener, startHttp, webRoutes } from "../protocols/http/mod.ts";
import { acmeManager, prepareAcme } from "../core/acme/mod.ts";

/** A running server. */
export interface RunningServer {
  deps: ServerDeps;
  /** Bound port of each enabled listener (useful when the config said port 0). */
  ports: Partial<Record<ListenerName, number>>;
  /** The outbound queue runner (started after the listeners). */
  queue: QueueRunner;
  stop(): Promise<void>;
}

function protocolFor(name: ListenerName, deps: ServerDeps): ProtocolHandler | null {
  switch (name) {
    case "smtp":
      return smtpHandler(deps, "mx");
    case "submission":
      return smtpHandler(deps, "submission");
    case "submissions":
      return smtpHandler(deps, "submissions");
    case "imap":
      return imapHandler(deps, { implicitTls: false });
    case "imaps":
      return imapHandler(deps, { implicitTls: true });
    case "pop3":
      return pop3Handler(deps, { implicitTls: false });
    case "pop3s":
      return pop3Handler(deps, { implicitTls: true });
    case "managesieve":
      return manageSieveHandler(deps);
    case "http":
    case "https":
      return null; // not line protocols: started by startHttp below
  }
}

const IMPLICIT_TLS = new Set<ListenerName>(["submissions", "imaps", "pop3s"]);

/**
 * At stop, sessions waiting for a command say goodbye at once; a command or transfer under
 * way (a DATA being received, a message being committed) gets this long to finish. With
 * the queue and plugins after it, the process exits well within 5 s.
 */
const SHUTDOWN_GRACE_MS = 3000;

/** Starts everything the config asks for. */
export async function startServer(
  config: Config,
  opts: {
    store?: Store;
    now?: () => number;
    /** Aborted when the process begins to shut down (serve's SIGINT/SIGTERM). */
    shutdown?: AbortSignal;
    /** Called if another process takes this node's name while it runs (node_lease.ts). */
    onNodeLost?: () => void;
  } = {},
): Promise<RunningServer> {
  await Deno.mkdir(config.dataDir, { recursive: true });
  const authSecret = await loadAuthSecret(config.dataDir);
  // TLS first: a pair that cannot serve is a config error (exit 2) before anything is opened.
  await prepareAcme(config);
  const tls = await TlsProvider.load(await ensureTlsFiles(config));
  const store = opts.store ?? await openConfiguredStore(config);
  // One live process per cluster.node (a store passed in belongs to its caller: no lease).
  const nodeLease = opts.store ? null : await NodeLease.acquire(store, config.cluster.node, {
    leaseMs: config.cluster.nodeLeaseMs,
    onLost: () => opts.onNodeLost?.(),
  }).catch(async (e) => {
    tls.close();
    await store.close();
    throw e;
  });
  tls.watch();
  const now = opts.now ?? Date.now;
  const deps: ServerDeps = {
    config,
    store,
    tls,
    auth: new Authenticator(store, {
      now,
      limits: throttleLimits(config.auth),
      secret: authSecret,
    }),
    router: new Router(store, new Srs(await loadSrsSecret(config.dataDir))),
    now,
    shutdown: opts.shutdown ?? new AbortController().signal,
    changeHub: new ChangeHub(store),
    userSessions: new UserSessions(),
    maildropLocks: new MaildropLocks(store, { node: config.cluster.node }),
    // \Recent is counted from the start: the tracker must see every append.
    recent: new RecentTracker(store),
    mailboxKeywords: new MailboxKeywords(),
    hookState: new HookState(),
    acme: acmeManager(config, tls, now),
    activity: new ActivityLog(),
  };
  const untapActivity = log.addTap(deps.activity!.observe);
  // Plugins load before any listener accepts: a plugin that cannot load stops the start.
  if (config.plugins.length > 0) {
    try {
      deps.plugins = await PluginHost.start(config, {
        store,
        dns: pluginDnsLookup(config.dns),
        shutdown: deps.shutdown,
        strict: true,
      });
      const loaded = deps.plugins.list().map((p) => `${p.name}(${p.hooks.join(",") || "-"})`);
      log.info("plugin", `plugins loaded: ${loaded.join(" ")}`);
    } catch (e) {
      untapActivity();
      tls.close();
      await nodeLease?.release();
      if (!opts.store) await store.close();
      throw e;
    }
  }
  const listeners: Listener[] = [];
  const web: HttpListener[] = [];
  const ports: Partial<Record<ListenerName, number>> = {};
  let starting = ""; // "listeners.imap 127.0.0.1:2143": named in a bind error
  try {
    for (
      const [name, address] of Object.entries(config.listeners) as [
        ListenerName,
        typeof config.listeners.smtp,
      ][]
    ) {
      if (!address) continue;
      const handler = protocolFor(name, deps);
      if (!handler) continue;
      starting = `listeners.${name} ${formatHostPort(address)}`;
      const l = await Listener.start({
        name,
        address,
        implicitTls: IMPLICIT_TLS.has(name),
        tls,
        maxConnections: config.limits.maxConnections,
        maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
        deadlines: {
          lineTimeoutMs: config.limits.commandLineTimeoutMs,
          minDataRate: config.limits.minDataRate,
          tlsHandshakeTimeoutMs: config.limits.tlsHandshakeTimeoutMs,
        },
        handle: (c) => handler.handle(c),
        refuse: (c, reason) => handler.refuse(c, reason),
      });
      listeners.push(l);
      ports[name] = l.port;
    }
    const routes = webRoutes(deps, {
      connections: () => Object.fromEntries(listeners.map((l) => [l.name, l.connectionCount])),
      ports: () => ({ ...ports }) as Record<string, number>,
    });
    for (const name of ["http", "https"] as const) {
      const address = config.listeners[name];
      if (!address) continue;
      starting = `listeners.${name} ${formatHostPort(address)}`;
      const l = await startHttp(routes, address, {
        tls: name === "https" ? tls : undefined,
        acmeAlpn: config.acme?.challenge === "tls-alpn-01" ? deps.acme?.challenges : undefined,
      });
      web.push(l);
      ports[name] = l.port;
    }
  } catch (e) {
    for (const l of listeners) await l.stop();
    for (const l of web) await l.stop();
    await deps.plugins?.stop();
    untapActivity();
    tls.close();
    await nodeLease?.release();
    if (!opts.store) await store.close();
    const why = e instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : e instanceof Deno.errors.AddrNotAvailable
      ? "address not available on this host"
      : (e as Error).message;
    throw new Error(`cannot start ${starting || "listener"}: ${why}`);
  }
  log.info("server", `denomail ready as ${config.hostname}`, {
    listeners: Object.entries(ports).map(([n, p]) => `${n}=${p}`).join(","),
  });
  const queue = new QueueRunner(deps, smtpSender);
  queue.start();
  deps.acme?.start();
  // TLS-RPT / DMARC aggregate reports of finished days, hourly (core/reports/mod.ts).
  const stopReports = scheduleReports({ ...deps, dns: createResolver(config.dns) });
  const pruner = startPruner(store, config.storage);
  let stopped = false;
  return {
    deps,
    ports,
    queue,
    async stop() {
      if (stopped) return;
      stopped = true;
      log.info("server", "stopping: sessions get their goodbye", {
        grace_ms: SHUTDOWN_GRACE_MS,
      });
      await Promise.all(listeners.map((l) => l.stop(SHUTDOWN_GRACE_MS)));
      await Promise.all(web.map((l) => l.stop()));
      stopReports();
      await queue.stop();
      await pruner.stop();
      deps.acme?.stop();
      await deps.plugins?.stop();
      deps.auth.close();
      untapActivity();
      tls.close();
      await nodeLease?.release();
      if (!opts.store) await store.close();
      log.info("server", "stopped");
    },
  };
}

export { formatHostPort };
