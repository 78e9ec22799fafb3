/**
 * The delivery side of the plugin hooks, for the queue runner (core/queue/runner.ts):
 * `queue` before each delivery attempt (per pending remote recipient: refuse, defer, drop,
 * or choose a relay and a TLS policy), and the `delivered` / `bounced` notifications after
 * an attempt was recorded (fire-and-forget: never awaited, never delaying delivery).
 *
 * With no plugin declaring a hook, nothing is built and nothing is sent.
 *
 * @module
 */
import type { QueueEntry, QueueRecipient } from "../../storage/mod.ts";
import type { FailureInfo } from "./failure.ts";
import { log } from "../../lib/log.ts";
import type { PluginHost } from "../../plugins/engine/host.ts";
import type { SessionInfo } from "../../plugins/sdk.ts";
import { addressOf } from "../../plugins/engine/address.ts";

/** TLS policy for a recipient's delivery. */
export type TlsPolicy = "require" | "opportunistic" | "none";

/** A relay a plugin chose: "host" or "host:port" ("[v6]:port" for IPv6). */
export interface Relay {
  host: string;
  port: number | null;
}

/** What the queue hook decided for one recipient. */
export interface QueueRoute {
  /** Fail this recipient now (permanent: bounce) or skip this attempt (temporary). */
  failure?: FailureInfo;
  /** Drop silently: counted as done, no delivery, no bounce. */
  discard?: string;
  relay?: Relay;
  tls: TlsPolicy;
}

/** Parses a relay "host", "host:port" or "[v6]:port"; null when it is not one. */
export function parseRelay(s: string): Relay | null {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(s) ??
    /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : null;
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { host: m[1].toLowerCase(), port };
}

/** The key recipients with the same route share a transaction under. */
export function routeKey(r: QueueRoute): string {
  return `${r.relay ? `${r.relay.host}:${r.relay.port ?? ""}` : ""}|${r.tls}`;
}

function session(entry: QueueEntry): SessionInfo {
  const m = entry.meta;
  return {
    id: `queue-${entry.id}`,
    remoteIp: typeof m.clientIp === "string" ? m.clientIp : "",
    tls: false,
    ...(typeof m.helo === "string" ? { helo: m.helo } : {}),
    ...(typeof m.authenticatedAs === "string" ? { user: m.authenticatedAs } : {}),
  };
}

/**
 * Runs the queue hook for every pending recipient (concurrently). Recipients with no
 * plugin opinion get the default route (MX, opportunistic TLS).
 */
export async function queueRoutes(
  host: PluginHost | undefined,
  entry: QueueEntry,
  pending: QueueRecipient[],
  message: Uint8Array,
): Promise<Map<string, QueueRoute>> {
  const routes = new Map<string, QueueRoute>();
  if (!host?.wants("queue")) {
    for (const r of pending) routes.set(r.address, { tls: "opportunistic" });
    return routes;
  }
  const s = session(entry);
  const outcomes = await Promise.all(pending.map((r) =>
    host.run("queue", {
      session: s,
      sender: addressOf(entry.sender),
      recipient: addressOf(r.address),
      queueId: entry.id,
      attempt: entry.attempts + 1,
      requireTls: entry.meta.requireTls === true,
      message,
    })
  ));
  for (const [i, out] of outcomes.entries()) {
    const r = pending[i];
    const route: QueueRoute = { tls: out.tls ?? "opportunistic" };
    switch (out.action) {
      case "reject":
      case "tempfail":
      case "disconnect":
        // A plugin's reject is permanent (bounce); its tempfail (or failure) waits a retry.
        route.failure = {
          permanent: out.action === "reject",
          status: out.enhanced!,
          diagnostic: `${out.code} ${out.enhanced} ${out.text} (plugin ${out.decidedBy})`,
        };
        break;
      case "discard":
        route.discard = `discarded by plugin ${out.decidedBy}`;
        break;
    }
    if (out.relay && !route.failure) {
      const relay = parseRelay(out.relay);
      if (relay) route.relay = relay;
      else {
        log.warn("plugin", `plugin relay "${out.relay}" is not host[:port]; using MX`, {
          id: entry.id,
        });
      }
    }
    routes.set(r.address, route);
  }
  const decided = outcomes.flatMap((o) => o.results).filter((x) => x.action !== "continue");
  if (decided.length > 0) {
    log.info("queue", "plugin verdicts", {
      id: entry.id,
      plugins: decided.map((x) => `${x.plugin}:queue=${x.action}`).join(" "),
    });
  }
  return routes;
}

/** One recipient's result of an attempt, as the runner knows it. */
export type AttemptOutcome =
  | { delivered: true; remoteMta: string }
  | { delivered: false; failure: FailureInfo };

/**
 * Tells plugins which recipients were delivered and which failed for good in this attempt.
 * Fire-and-forget: returns at once; the calls run in the background.
 */
export function notifyOutcomes(
  host: PluginHost | undefined,
  entry: QueueEntry,
  outcomes: Map<string, AttemptOutcome>,
  opts: { expired: boolean },
): void {
  if (!host) return;
  const wantsDelivered = host.wants("delivered");
  const wantsBounced = host.wants("bounced");
  if (!wantsDelivered && !wantsBounced) return;
  const s = session(entry);
  const base = { session: s, sender: addressOf(entry.sender), queueId: entry.id };
  for (const [address, o] of outcomes) {
    if (o.delivered && wantsDelivered) {
      void host.run("delivered", {
        ...base,
        recipient: addressOf(address),
        remoteMta: o.remoteMta,
      });
    } else if (!o.delivered && wantsBounced && (o.failure.permanent || opts.expired)) {
      void host.run("bounced", {
        ...base,
        recipient: addressOf(address),
        status: o.failure.permanent ? o.failure.status : "4.4.7",
        error: o.failure.diagnostic,
        ...(o.failure.remoteMta ? { remoteMta: o.failure.remoteMta } : {}),
      });
    }
  }
}
