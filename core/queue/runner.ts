/**
 * The queue runner: polls the Store for due entries, delivers each entry's pending
 * recipients (one transaction per destination domain), records per-recipient results, and
 * reschedules, fails or bounces.
 *
 * Invariants:
 * - An entry is updated only after its attempt finished; a crash in between means the next
 *   run delivers again (at most a duplicate, never a loss).
 * - A bounce is written before the entry is updated (a crash repeats the bounce rather than
 *   losing it); a bounce (sender "") never causes another bounce.
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
import { log } from "../log.ts";
import { SmtpClient, type Timeouts, type Transaction } from "./client.ts";
import { type TlsResult, TransportError } from "./transport.ts";
import { DeliveryError, failureFromReply, type FailureInfo } from "./reply.ts";
import { hostAddresses, mxHosts } from "./mx.ts";
import { ConnectionPool } from "./pool.ts";
import { KeyedLimiter, Semaphore } from "./limiter.ts";
import { buildDsn, countReceived, type ReportedRecipient, wantsNotice } from "./dsn.ts";
import { DkimSigner } from "./dkim.ts";

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
}

/** What one attempt did for one recipient. */
type Outcome = { delivered: true; remoteMta: string } | { delivered: false; failure: FailureInfo };

/** Delivers the outbound queue until stopped. */
export class QueueRunner {
  #deps: RunnerDeps;
  #dns: DnsResolver;
  #signer: { sign(message: Uint8Array): Promise<Uint8Array> } | null;
  #pool: ConnectionPool;
  #overall: Semaphore;
  #perDomain: KeyedLimiter;
  #inflight = new Map<number, Promise<void>>();
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #open = new Set<SmtpClient>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
    this.#dns = deps.dns ?? createResolver(deps.config.dns);
    this.#signer = deps.signer === undefined ? new DkimSigner(deps.config.dataDir) : deps.signer;
    this.#overall = new Semaphore(deps.config.delivery.concurrency);
    // Several domains may share one MX host (one ip:port key): keep as many idle
    // connections per host as can be busy at once, or a burst would QUIT and reconnect.
    this.#pool = new ConnectionPool(5000, deps.config.delivery.concurrency);
    this.#perDomain = new KeyedLimiter(deps.config.delivery.perDomainConcurrency);
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
    const due = await this.#deps.store.dueQueue(this.#deps.now(), room + this.#inflight.size);
    for (const entry of due) {
      if (this.#inflight.size >= limit) break;
      if (this.#inflight.has(entry.id)) continue;
      const p = this.#attempt(entry)
        .catch((e) =>
          log.error("queue", "delivery attempt failed", {
            id: entry.id,
            error: (e as Error).message,
          })
        )
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
      const body = this.#signer ? await this.#signer.sign(message) : message;
      const byDomain = new Map<string, QueueRecipient[]>();
      for (const r of pending) {
        const d = splitAddress(r.address)?.domain ?? "";
        byDomain.set(d, [...(byDomain.get(d) ?? []), r]);
      }
      await Promise.all(
        [...byDomain].map(async ([domain, rcpts]) => {
          const res = await this.#deliverDomain(domain, rcpts, entry, body, tlsByHost);
          for (const [a, o] of res) outcomes.set(a, o);
        }),
      );
    }
    await this.#record(entry, message, outcomes, tlsByHost);
  }

  /** Delivers to one domain's MX hosts, in order, until one gives an answer. */
  async #deliverDomain(
    domain: string,
    rcpts: QueueRecipient[],
    entry: QueueEntry,
    body: Uint8Array,
    tlsByHost: Record<string, TlsResult | null>,
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
        hosts = await mxHosts(domain, this.#dns);
      } catch (e) {
        if (e instanceof DeliveryError) return all(e);
        throw e;
      }
      const { config } = this.#deps;
      const port = config.delivery.smtpPort;
      let last: FailureInfo = {
        permanent: false,
        status: "4.4.1",
        diagnostic: `451 4.4.1 no answer from any mail server of ${domain}`,
      };
      for (const mx of hosts) {
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
          };
          let client: SmtpClient | null = this.#pool.take(ip, port);
          try {
            client ??= await SmtpClient.open(mx.host, ip, port, {
              helo: config.hostname,
              timeouts: this.#deps.timeouts,
            });
            this.#open.add(client);
            tlsByHost[mx.host] = client.tls;
            const res = await client.send(tx);
            const out = new Map<string, Outcome>();
            for (const r of res.rcpts) {
              const ok = r.reply.code === 250 || r.reply.code === 251;
              if (!ok) {
                out.set(r.address, {
                  delivered: false,
                  failure: failureFromReply(r.reply, mx.host),
                });
              } else if (res.data && res.data.code === 250) {
                out.set(r.address, { delivered: true, remoteMta: mx.host });
              } else if (res.data) {
                out.set(r.address, {
                  delivered: false,
                  failure: failureFromReply(res.data, mx.host),
                });
              }
            }
            log.info("queue", "delivery attempt", {
              id: entry.id,
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
            if (e instanceof TransportError) {
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

  /** Writes results: delivered / failed / retry later, and the bounce. */
  async #record(
    entry: QueueEntry,
    message: Uint8Array,
    outcomes: Map<string, Outcome>,
    tlsByHost: Record<string, TlsResult | null>,
  ): Promise<void> {
    const { store, config } = this.#deps;
    const now = this.#deps.now();
    const expired = now - entry.createdAt >= config.delivery.maxAgeMs;
    const bounced: ReportedRecipient[] = [];
    let lastError: string | null = null;
    const recipients = entry.recipients.map((r): QueueRecipient => {
      const o = outcomes.get(r.address);
      if (r.status !== "pending" || !o) return r;
      if (o.delivered) return { ...r, status: "delivered", lastError: undefined };
      lastError = o.failure.diagnostic;
      // RFC 5321 §4.5.4.1: give up after max_age; a 5xx fails at once.
      if (o.failure.permanent || expired) {
        if (wantsNotice(r, "failed")) {
          bounced.push({
            address: r.address,
            orcpt: typeof r.dsn?.orcpt === "string" ? r.dsn.orcpt : undefined,
            action: "failed",
            status: o.failure.permanent ? o.failure.status : "4.4.7",
            diagnostic: o.failure.diagnostic,
            remoteMta: o.failure.remoteMta,
          });
        }
        return { ...r, status: "failed", lastError: o.failure.diagnostic };
      }
      return { ...r, lastError: o.failure.diagnostic };
    });
    // RFC 3464 §2 / RFC 5321 §4.5.5: never a bounce of a bounce (null sender).
    if (bounced.length > 0 && entry.sender !== "") {
      await this.#bounce(entry, message, bounced, now);
    }
    const stillPending = recipients.some((r) => r.status === "pending");
    log.info("queue", stillPending ? "deferred" : "done", {
      id: entry.id,
      delivered: recipients.filter((r) => r.status === "delivered").length,
      failed: recipients.filter((r) => r.status === "failed").length,
      pending: recipients.filter((r) => r.status === "pending").length,
      ...(lastError ? { lastError } : {}),
    });
    if (!stillPending) {
      await store.removeQueueEntry(entry.id);
      return;
    }
    const schedule = config.delivery.retryScheduleMs;
    const step = schedule[Math.min(entry.attempts, schedule.length - 1)] ?? 60_000;
    await store.updateQueueEntry(entry.id, {
      recipients,
      attempts: entry.attempts + 1,
      nextAttemptAt: Math.min(now + step, entry.createdAt + config.delivery.maxAgeMs),
      lastError,
      meta: { ...entry.meta, tls: { ...(entry.meta.tls as object ?? {}), ...tlsByHost } },
    });
  }

  /** Sends the DSN back to the envelope sender through the router. */
  async #bounce(
    entry: QueueEntry,
    message: Uint8Array,
    recipients: ReportedRecipient[],
    now: number,
  ): Promise<void> {
    const { store, router, config } = this.#deps;
    const dsn = buildDsn({
      hostname: config.hostname,
      sender: entry.sender,
      recipients,
      original: message,
      ret: typeof entry.meta.ret === "string" ? entry.meta.ret : null,
      envid: typeof entry.meta.envid === "string" ? entry.meta.envid : null,
      arrivalDate: entry.createdAt,
      now,
    });
    const route = await router.resolve(entry.sender, { mayRelay: true });
    if (route.kind === "reject") {
      log.warn("queue", "bounce undeliverable: sender unknown", {
        id: entry.id,
        sender: entry.sender,
      });
      return;
    }
    const writes: Promise<unknown>[] = [];
    if (route.local.length > 0) {
      const prefix = new TextEncoder().encode("Return-Path: <>\r\n");
      const withPath = new Uint8Array(prefix.length + dsn.length);
      withPath.set(prefix);
      withPath.set(dsn, prefix.length);
      writes.push(store.deliver(
        withPath,
        route.local.map((l) => ({
          accountId: l.accountId,
          mailbox: "INBOX",
        })),
      ));
    }
    if (route.remote.length > 0) {
      writes.push(store.enqueue(dsn, {
        sender: "",
        recipients: route.remote.map((address) => ({ address, status: "pending" })),
        nextAttemptAt: now,
        meta: { bounceOf: entry.id },
      }));
    }
    await Promise.all(writes);
    log.info("queue", "bounce sent", {
      id: entry.id,
      to: entry.sender,
      recipients: recipients.map((r) => r.address).join(","),
    });
  }
}
