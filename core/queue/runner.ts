/**
 * The queue runner: polls the Store for due entries, delivers each entry's pending
 * recipients (one transaction per destination domain), records per-recipient results, and
 * reschedules, fails or bounces.
 *
 * Invariants:
 * - An entry is updated only after its attempt finished; a crash in between means the next
 *   run delivers again (at most a duplicate, never a loss).
 * - An attempt's results and the notices they owe the sender (bounce, delay warning) are
 *   one entry update; the notices are sent after it and cleared after that, so a crash
 *   never loses a notice nor repeats delivered recipients (notices.ts). A notice (sender
 *   "") never causes another notice.
 * - At most `delivery.concurrency` connections overall and `delivery.perDomainConcurrency`
 *   per destination domain.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { QueueEntry, QueueRecipient, Store } from "../../storage/mod.ts";
import type { Router } from "../router.ts";
import { splitAddress } from "../router.ts";
import { createResolver, DnsError, type DnsResolver } from "../dns.ts";
import { log, messageRef } from "../../lib/log.ts";
import type { SmtpSender, SmtpSession, Timeouts, TlsResult, Transaction } from "./sender.ts";
import { DeliveryError, type FailureInfo, NetworkError } from "./failure.ts";
import { hostAddresses, mxHosts } from "./mx.ts";
import { ConnectionPool } from "./pool.ts";
import { KeyedLimiter, Semaphore } from "./limiter.ts";
import { countReceived, type ReportedRecipient, wantsNotice } from "./dsn.ts";
import { type OwedNotice, owedNotices, sendNotice } from "./notices.ts";
import { DkimSigner } from "./dkim.ts";
import type { PluginHost } from "../../plugins/engine/host.ts";
import { notifyOutcomes, type QueueRoute, queueRoutes, routeKey } from "./hooks.ts";
import { DomainPolicy, TlsPolicies } from "../outbound_security/tls_policy.ts";
import { TlsRptRecorder } from "../reports/tlsrpt.ts";

/** RFC 5321 §6.3: more Received fields than this is a mail loop. */
export const MAX_RECEIVED = 50;

export interface RunnerDeps {
  config: Config;
  store: Store;
  router: Router;
  now(): number;
  /** Defaults to the resolver `config.dns` describes. */
  dns?: DnsResolver;
  /** Defaults to a DkimSigner over data_dir/dkim. */
  signer?: { sign(message: Uint8Array): Promise<Uint8Array> } | null;
  timeouts?: Partial<Timeouts>;
  /** How often the queue is polled (default 1000 ms). */
  pollMs?: number;
  /** The plugin host (queue hook, delivered/bounced notifications); read at each attempt. */
  plugins?: PluginHost;
}

/** What one attempt did for one recipient. */
type Outcome = { delivered: true; remoteMta: string } | { delivered: false; failure: FailureInfo };

/** Delivers the outbound queue until stopped. */
export class QueueRunner {
  #deps: RunnerDeps;
  #sender: SmtpSender;
  #dns: DnsResolver;
  #signer: { sign(message: Uint8Array): Promise<Uint8Array> } | null;
  #pool: ConnectionPool;
  #overall: Semaphore;
  #perDomain: KeyedLimiter;
  #inflight = new Map<number, Promise<void>>();
  /** Entries whose last attempt failed to record: id -> not before (in memory only). */
  #held = new Map<number, number>();
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #open = new Set<SmtpSession>();
  /** MTA-STS / DANE decisions and TLS-RPT counting (core/outbound_security/). */
  #policies: TlsPolicies;

  /** `sender` is the SMTP client (protocols/smtp/client/), injected by the composition root. */
  constructor(deps: RunnerDeps, sender: SmtpSender) {
    this.#deps = deps;
    this.#sender = sender;
    this.#dns = deps.dns ?? createResolver(deps.config.dns);
    this.#signer = deps.signer === undefined ? new DkimSigner(deps.config.dataDir) : deps.signer;
    this.#overall = new Semaphore(deps.config.delivery.concurrency);
    // Several domains may share one MX host (one ip:port key): keep as many idle
    // connections per host as can be busy at once, or a burst would QUIT and reconnect.
    this.#pool = new ConnectionPool(5000, deps.config.delivery.concurrency);
    this.#perDomain = new KeyedLimiter(deps.config.delivery.perDomainConcurrency);
    const rpt = deps.config.reports.tlsRpt ? new TlsRptRecorder(deps.store, deps.now) : null;
    this.#policies = new TlsPolicies({
      config: deps.config,
      store: deps.store,
      dns: this.#dns,
      now: deps.now,
      report: rpt ? (ev) => void rpt.record(ev) : undefined,
    });
  }

  /** Starts polling. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Polls now instead of at the next interval (after an enqueue, or `queue flush`). */
  kick(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Stops polling, aborts open connections, waits for attempts to be recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.kick();
    await this.#loop;
    for (const c of this.#open) c.close();
    await Promise.allSettled([...this.#inflight.values()]);
    await this.#pool.closeAll();
  }

  /** Starts every due entry and waits until those attempts are recorded (tests, flush). */
  async runOnce(): Promise<void> {
    await this.#tick();
    await Promise.allSettled([...this.#inflight.values()]);
  }

  async #run(): Promise<void> {
    const pollMs = this.#deps.pollMs ?? 1000;
    while (this.#running) {
      try {
        await this.#tick();
      } catch (e) {
        log.error("queue", "queue poll failed", { error: (e as Error).message });
      }
      if (!this.#running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #tick(): Promise<void> {
    const limit = this.#deps.config.delivery.concurrency;
    const room = limit - this.#inflight.size;
    if (room <= 0) return;
    const now = this.#deps.now();
    for (const [id, until] of this.#held) if (until <= now) this.#held.delete(id);
    const due = await this.#deps.store.dueQueue(
      now,
      room + this.#inflight.size + this.#held.size,
    );
    for (const entry of due) {
      if (this.#inflight.size >= limit) break;
      if (this.#inflight.has(entry.id) || this.#held.has(entry.id)) continue;
      const p = this.#attempt(entry)
        .catch((e) => {
          // The attempt could not be recorded (storage trouble): the entry stays due, so
          // hold it back for one retry step instead of retrying it in a tight loop.
          const step = this.#deps.config.delivery.retryScheduleMs[0] ?? 60_000;
          this.#held.set(entry.id, this.#deps.now() + step);
          log.error("queue", "delivery attempt failed", {
            id: entry.id,
            error: (e as Error).message,
          });
        })
        .finally(() => {
          this.#inflight.delete(entry.id);
          if (this.#running) this.kick(); // a slot is free: look for more work
        });
      this.#inflight.set(entry.id, p);
    }
  }

  /** One delivery attempt for one entry: all its pending recipients. */
  async #attempt(entry: QueueEntry): Promise<void> {
    const { store } = this.#deps;
    // An earlier pass recorded results but did not get to send the notices they owe
    // (crash, storage error): send those now; this entry's next attempt comes later.
    if (owedNotices(entry.meta).length > 0) {
      await this.#settleNotices(entry, null);
      return;
    }
    const pending = entry.recipients.filter((r) => r.status === "pending");
    if (pending.length === 0) {
      await store.removeQueueEntry(entry.id);
      return;
    }
    const message = await store.readBlob(entry.blobId);
    const outcomes = new Map<string, Outcome>();
    const tlsByHost: Record<string, TlsResult | null> = {};
    if (countReceived(message) > MAX_RECEIVED) {
      // RFC 5321 §6.3: a message with too many Received fields is looping.
      const failure: FailureInfo = {
        permanent: true,
        status: "5.4.6",
        diagnostic: `554 5.4.6 Too many Received headers: mail loop detected`,
      };
      for (const r of pending) outcomes.set(r.address, { delivered: false, failure });
    } else {
      // Plugins (queue hook, per recipient): refuse, defer, drop, or pick a relay / TLS.
      const routes = await queueRoutes(this.#deps.plugins, entry, pending, message);
      const groups = new Map<
        string,
        { domain: string; route: QueueRoute; rcpts: QueueRecipient[] }
      >();
      for (const r of pending) {
        const route = routes.get(r.address)!;
        if (route.failure) outcomes.set(r.address, { delivered: false, failure: route.failure });
        else if (route.discard) {
          outcomes.set(r.address, { delivered: true, remoteMta: route.discard });
        }
        if (route.failure || route.discard) continue;
        const domain = splitAddress(r.address)?.domain ?? "";
        const key = `${domain}|${routeKey(route)}`;
        const g = groups.get(key) ?? { domain, route, rcpts: [] };
        g.rcpts.push(r);
        groups.set(key, g);
      }
      const body = this.#signer && groups.size > 0 ? await this.#signer.sign(message) : message;
      await Promise.all(
        [...groups.values()].map(async ({ domain, rcpts, route }) => {
          const res = await this.#deliverDomain(domain, rcpts, entry, body, tlsByHost, route);
          for (const [a, o] of res) outcomes.set(a, o);
        }),
      );
    }
    await this.#record(entry, message, outcomes, tlsByHost);
    // Plugins (delivered / bounced): fire-and-forget, after the results are recorded.
    const expired = this.#deps.now() >= entry.createdAt + this.#deps.config.delivery.maxAgeMs;
    notifyOutcomes(this.#deps.plugins, entry, outcomes, { expired });
  }

  /**
   * Delivers to one domain's MX hosts (or the relay a plugin chose), in order, until one
   * gives an answer, under the recipients' TLS policy.
   */
  async #deliverDomain(
    domain: string,
    rcpts: QueueRecipient[],
    entry: QueueEntry,
    body: Uint8Array,
    tlsByHost: Record<string, TlsResult | null>,
    route: QueueRoute = { tls: "opportunistic" },
  ): Promise<Map<string, Outcome>> {
    const all = (failure: FailureInfo) =>
      new Map<string, Outcome>(rcpts.map((r) => [r.address, { delivered: false, failure }]));
    if (!domain) {
      return all({ permanent: true, status: "5.1.3", diagnostic: "553 5.1.3 bad address" });
    }
    await this.#perDomain.acquire(domain);
    await this.#overall.acquire();
    try {
      let hosts;
      try {
        hosts = route.relay
          ? [{ host: route.relay.host, preference: 0 }]
          : await mxHosts(domain, this.#dns);
      } catch (e) {
        if (e instanceof DeliveryError) return all(e);
        throw e;
      }
      const { config } = this.#deps;
      const port = route.relay?.port ?? config.delivery.smtpPort;
      let last: FailureInfo = {
        permanent: false,
        status: "4.4.1",
        diagnostic: `451 4.4.1 no answer from any mail server of ${domain}`,
      };
      // The destination's TLS policy (MTA-STS, DANE); a plugin's relay is not the MX.
      const policy = route.relay || domain.startsWith("[")
        ? null
        : await this.#policies.forDomain(domain);
      const ca = await this.#policies.ca();
      // RFC 8689: a REQUIRETLS message goes only over verified TLS to a host offering it.
      const requireTls = entry.meta.requireTls === true;
      for (const mx of hosts) {
        const decision = policy ? await policy.forHost(mx.host, port) : null;
        if (decision?.failure) {
          last = decision.failure;
          continue;
        }
        const hostPolicy = decision?.policy ?? null;
        let ips: string[];
        try {
          ips = await hostAddresses(mx.host, this.#dns);
        } catch (e) {
          const perm = e instanceof DnsError && e.permanent;
          // RFC 5321 §5.1: the implicit MX (no MX records) without an address: undeliverable.
          if (perm && hosts.length === 1 && mx.host === domain) {
            return all({
              permanent: true,
              status: "5.1.2",
              diagnostic: `550 5.1.2 ${domain} has no MX and no address`,
            });
          }
          last = {
            permanent: false,
            status: "4.4.3",
            diagnostic: `451 4.4.3 ${mx.host}: ${(e as Error).message}`,
          };
          continue;
        }
        for (const ip of ips) {
          const tx: Transaction = {
            sender: entry.sender,
            recipients: rcpts.map((r) => ({
              address: r.address,
              notify: Array.isArray(r.dsn?.notify) ? r.dsn.notify as string[] : undefined,
              orcpt: typeof r.dsn?.orcpt === "string" ? r.dsn.orcpt : undefined,
            })),
            body,
            ret: typeof entry.meta.ret === "string" ? entry.meta.ret : null,
            envid: typeof entry.meta.envid === "string" ? entry.meta.envid : null,
            smtputf8: entry.meta.smtputf8 === true,
            requireTls,
          };
          // A session judged by a policy is a fresh one (the pool's was opened for any name).
          let client: SmtpSession | null = hostPolicy && DomainPolicy.strict(hostPolicy, requireTls)
            ? null
            : this.#pool.take(ip, port);
          try {
            client ??= await this.#sender.open(mx.host, ip, port, {
              helo: config.hostname,
              timeouts: this.#deps.timeouts,
              starttls: route.tls !== "none" || (hostPolicy?.kind ?? "none") !== "none",
              ca,
            });
            this.#open.add(client);
            const refusal = hostPolicy ? policy!.check(hostPolicy, client, requireTls) : null;
            if (refusal) {
              last = refusal; // nothing was sent: try the next host, else retry later
              continue;
            }
            if (route.tls === "require" && !client.tls) {
              // A plugin's TLS policy: no TLS, no delivery here. RFC 3463: 4.7.4 security
              // features not supported; the next host may do better, else retry later.
              last = {
                permanent: false,
                status: "4.7.4",
                diagnostic: `451 4.7.4 ${mx.host} [${ip}]: TLS required by policy, not offered`,
                remoteMta: mx.host,
              };
              continue;
            }
            tlsByHost[mx.host] = client.tls;
            const out = new Map<string, Outcome>();
            for (const o of await client.send(tx)) {
              out.set(
                o.address,
                o.failure
                  ? { delivered: false, failure: o.failure }
                  : { delivered: true, remoteMta: mx.host },
              );
            }
            log.info("queue", "delivery attempt", {
              id: entry.id,
              ...messageRef(entry),
              host: mx.host,
              ip,
              tls: client.tls
                ? `${client.tls.protocol}${client.tls.verified ? "" : " unverified"}`
                : "none",
              delivered: [...out.values()].filter((o) => o.delivered).length,
              failed: [...out.values()].filter((o) => !o.delivered).length,
            });
            return out;
          } catch (e) {
            if (e instanceof DeliveryError) {
              // A reply that concerns the whole transaction (MAIL, DATA, size, SMTPUTF8).
              // RFC 5321 §3.1 / §4.2: a refusing greeting or 421: try the next host.
              if (!client || !client.usable) {
                last = e;
                continue;
              }
              return all(e);
            }
            if (e instanceof NetworkError) {
              if (hostPolicy && /^TLS handshake/.test(e.message)) {
                policy!.handshakeFailed(hostPolicy, ip, e.message);
              }
              last = {
                permanent: false,
                status: "4.4.2",
                diagnostic: `451 4.4.2 ${mx.host} [${ip}]: ${e.message}`,
                remoteMta: mx.host,
              };
              continue; // RFC 5321 §5.1: try the next address / host
            }
            throw e;
          } finally {
            if (client) {
              this.#open.delete(client);
              this.#pool.put(client);
            }
          }
        }
      }
      return all(last);
    } finally {
      this.#overall.release();
      this.#perDomain.release(domain);
    }
  }

  /**
   * Writes results: delivered / failed / retry later. The notices they owe the sender
   * (bounce, delay warning) are stored in the same update, then sent (see notices.ts).
   */
  async #record(
    entry: QueueEntry,
    message: Uint8Array,
    outcomes: Map<string, Outcome>,
    tlsByHost: Record<string, TlsResult | null>,
  ): Promise<void> {
    const { store, config } = this.#deps;
    const now = this.#deps.now();
    const giveUpAt = entry.createdAt + config.delivery.maxAgeMs;
    const expired = now >= giveUpAt;
    const failed: ReportedRecipient[] = [];
    const delayed: ReportedRecipient[] = [];
    let lastError: string | null = null;
    const recipients = entry.recipients.map((r): QueueRecipient => {
      const o = outcomes.get(r.address);
      if (r.status !== "pending" || !o) return r;
      if (o.delivered) return { ...r, status: "delivered", lastError: undefined };
      lastError = o.failure.diagnostic;
      const report = {
        address: r.address,
        orcpt: typeof r.dsn?.orcpt === "string" ? r.dsn.orcpt : undefined,
        diagnostic: o.failure.diagnostic,
        remoteMta: o.failure.remoteMta,
      };
      // RFC 5321 §4.5.4.1: give up after max_age; a 5xx fails at once.
      if (o.failure.permanent || expired) {
        if (wantsNotice(r, "failed")) {
          // RFC 3463 §3.5: 4.4.7, delivery time expired.
          const status = o.failure.permanent ? o.failure.status : "4.4.7";
          failed.push({ ...report, action: "failed", status });
        }
        return { ...r, status: "failed", lastError: o.failure.diagnostic };
      }
      if (wantsNotice(r, "delayed")) {
        // RFC 3464 §2.3.4: a delayed recipient carries a 4.X.X status.
        const status = o.failure.status.startsWith("4.") ? o.failure.status : "4.0.0";
        delayed.push({ ...report, action: "delayed", status, willRetryUntil: giveUpAt });
      }
      return { ...r, lastError: o.failure.diagnostic };
    });
    const stillPending = recipients.some((r) => r.status === "pending");
    const meta: Record<string, unknown> = {
      ...entry.meta,
      tls: { ...(entry.meta.tls as object ?? {}), ...tlsByHost },
    };
    const notices: OwedNotice[] = [];
    // RFC 3464 §2 / RFC 5321 §4.5.5: never a notice about a notice (null sender).
    if (entry.sender !== "") {
      if (failed.length > 0) notices.push({ action: "failed", recipients: failed, at: now });
      // RFC 3464 §2.3.3 action=delayed: one warning per message once it has waited
      // delivery.delay_warning (checked at attempts, like Postfix's delay_warning_time).
      const warnAfter = config.delivery.delayWarningMs;
      if (
        stillPending && warnAfter > 0 && entry.meta.delayWarned === undefined &&
        now - entry.createdAt >= warnAfter
      ) {
        meta.delayWarned = now;
        if (delayed.length > 0) notices.push({ action: "delayed", recipients: delayed, at: now });
      }
    }
    log.info("queue", stillPending ? "deferred" : "done", {
      id: entry.id,
      ...messageRef(entry),
      to: recipients.map((r) => r.address).join(","),
      delivered: recipients.filter((r) => r.status === "delivered").length,
      failed: recipients.filter((r) => r.status === "failed").length,
      pending: recipients.filter((r) => r.status === "pending").length,
      ...(lastError ? { lastError } : {}),
    });
    const schedule = config.delivery.retryScheduleMs;
    const step = schedule[Math.min(entry.attempts, schedule.length - 1)] ?? 60_000;
    const retryAt = Math.min(now + step, giveUpAt);
    const attempts = entry.attempts + 1;
    if (notices.length === 0) {
      if (!stillPending) {
        await store.removeQueueEntry(entry.id);
        return;
      }
      await store.updateQueueEntry(entry.id, {
        recipients,
        attempts,
        nextAttemptAt: retryAt,
        lastError,
        meta,
      });
      return;
    }
    // One commit: the results and the notices they owe. Due at once, so that if sending
    // fails or we crash now, the next pass sends the notices (and only them).
    const owing = { ...meta, notices, retryAt: stillPending ? retryAt : null };
    await store.updateQueueEntry(entry.id, {
      recipients,
      attempts,
      nextAttemptAt: now,
      lastError,
      meta: owing,
    });
    await this.#settleNotices({ ...entry, recipients, attempts, lastError, meta: owing }, message);
  }

  /**
   * Sends the notices an entry owes, then clears them: the entry is removed when no
   * recipient is pending, else rescheduled for its next attempt (meta.retryAt).
   */
  async #settleNotices(entry: QueueEntry, message: Uint8Array | null): Promise<void> {
    const { store } = this.#deps;
    const body = message ?? await store.readBlob(entry.blobId);
    for (const notice of owedNotices(entry.meta)) {
      await sendNotice(this.#deps, entry, body, notice);
    }
    if (!entry.recipients.some((r) => r.status === "pending")) {
      await store.removeQueueEntry(entry.id);
      return;
    }
    const { notices: _notices, retryAt, ...meta } = entry.meta;
    await store.updateQueueEntry(entry.id, {
      nextAttemptAt: typeof retryAt === "number" ? retryAt : this.#deps.now(),
      meta,
    });
  }
}
