/**
 * The TLS policy outbound delivery works under, per destination domain and MX host, and
 * the check of an open session against it: DANE (RFC 7672) when the resolver vouches for
 * the MX and TLSA answers (AD bit), else the domain's MTA-STS policy (RFC 8461 §4.2, §5.1),
 * else opportunistic TLS (RFC 7435). DANE wins over MTA-STS (RFC 8461 §2). A failed check
 * is a temporary failure: the next host is tried, then the message waits for a retry —
 * never a bounce at once, never a plaintext fallback. In MTA-STS `testing` mode failures
 * are only reported. Every judged session is counted for TLS-RPT (RFC 8460).
 *
 * @module
 */
import { rootCertificates } from "node:tls";
import type { Config } from "../config.ts";
import { DnsError, type DnsResolver, type TlsaRecord } from "../dns.ts";
import type { Store } from "../../storage/mod.ts";
import { log } from "../../lib/log.ts";
import { daneVerify, describe, usableTlsa } from "./dane.ts";
import { lookupSts, mxMatches, type StsLookup } from "./mta_sts.ts";
import type { ReportedPolicy, TlsEvent, TlsResultType } from "../reports/tlsrpt.ts";

/**
 * Why a host may not get the message: the queue's FailureInfo (core/queue/failure.ts), the
 * same shape, named here so this folder does not import the queue that uses it.
 */
export interface FailureInfo {
  permanent: boolean;
  status: string;
  diagnostic: string;
  remoteMta?: string;
}

/** What a check needs of an open session (core/queue/sender.ts SmtpSession has it). */
export interface JudgedSession {
  readonly ip: string;
  readonly tls: { verified: boolean; verifyError?: string } | null;
  readonly peerChain?: Uint8Array[];
  readonly extensions?: ReadonlyMap<string, string>;
}

/** How one MX host must be talked to. */
export interface HostPolicy {
  host: string;
  /** none: opportunistic; sts: RFC 8461; dane: RFC 7672 (tlsa empty: TLS without auth). */
  kind: "none" | "sts" | "dane";
  /** false: MTA-STS testing mode (report, deliver anyway). */
  enforce: boolean;
  /** The host is among the MTA-STS policy's mx patterns (always true for other kinds). */
  mxOk: boolean;
  tlsa: TlsaRecord[];
  report: ReportedPolicy;
}

/** Either a policy or the failure to record for this host (the next host is tried). */
export type HostDecision = { policy: HostPolicy; failure?: undefined } | {
  policy?: undefined;
  failure: FailureInfo;
};

export interface PolicyDeps {
  config: Config;
  store: Store;
  dns: DnsResolver;
  now(): number;
  /** TLS-RPT counting (core/reports/tlsrpt.ts); absent: nothing counted. */
  report?: (ev: TlsEvent) => void;
}

function defer(status: string, diagnostic: string, remoteMta?: string): FailureInfo {
  return { permanent: false, status, diagnostic, ...(remoteMta ? { remoteMta } : {}) };
}

/** How long a domain's looked-up policy context is reused, and how many are kept. */
export const MEMO_MS = 60_000;
const MEMO_MAX = 10_000;

/** Builds per-domain policies for the queue runner. */
export class TlsPolicies {
  #deps: PolicyDeps;
  #ca: Promise<string[]> | null = null;
  #memo = new Map<string, { policy: Promise<DomainPolicy>; until: number }>();

  constructor(deps: PolicyDeps) {
    this.#deps = deps;
  }

  /** The roots outbound TLS is verified against: the bundled ones plus tls_ca_file. */
  ca(): Promise<string[]> {
    const file = this.#deps.config.delivery.tlsCaFile;
    this.#ca ??= file
      ? Deno.readTextFile(file).then(
        (pem) => [...rootCertificates, pem],
        (e) => {
          log.error("delivery", "delivery.tls_ca_file unreadable", { file, error: e.message });
          return [...rootCertificates];
        },
      )
      : Promise.resolve([...rootCertificates]);
    return this.#ca;
  }

  /**
   * The policy context of one destination domain. Looked up at most once a minute per
   * domain (MEMO_MS): a busy queue does not repeat the TXT, MX-AD and kv reads per message.
   */
  forDomain(domain: string): Promise<DomainPolicy> {
    const key = domain.toLowerCase();
    const now = this.#deps.now();
    const hit = this.#memo.get(key);
    if (hit && hit.until > now) return hit.policy;
    const policy = this.#lookup(key);
    this.#memo.delete(key);
    if (this.#memo.size >= MEMO_MAX) this.#memo.delete(this.#memo.keys().next().value!);
    this.#memo.set(key, { policy, until: now + MEMO_MS });
    policy.catch(() => this.#memo.delete(key));
    return policy;
  }

  async #lookup(domain: string): Promise<DomainPolicy> {
    const d = this.#deps;
    const sts: StsLookup = d.config.delivery.mtaSts
      ? await lookupSts({
        dns: d.dns,
        store: d.store,
        now: d.now,
        ca: await this.ca(),
        httpsPort: d.config.delivery.mtaStsHttpsPort,
        timeoutMs: 60_000, // RFC 8461 §3.3: at least 60 s
      }, domain)
      : { policy: null };
    if (sts.error && d.report) {
      d.report({
        policy: { type: "sts", domain, strings: [] },
        failure: { result: sts.error, reasonCode: sts.detail?.slice(0, 200) },
      });
    }
    let mxSecure = false;
    if (d.config.delivery.dane && d.dns.authenticated) {
      mxSecure = await d.dns.authenticated(domain, "MX")
        .catch((e) =>
          e instanceof DnsError && e.kind === "nodata"
            ? d.dns.authenticated!(domain, "A").catch(() => false)
            : false
        );
    }
    return new DomainPolicy(domain, sts, mxSecure, d);
  }
}

/** One destination domain's policies. */
export class DomainPolicy {
  #hosts = new Map<string, Promise<HostDecision>>();

  constructor(
    readonly domain: string,
    readonly sts: StsLookup,
    readonly mxSecure: boolean,
    readonly deps: PolicyDeps,
  ) {}

  /** True when a host's session must not come from the shared pool (it must be judged). */
  static strict(p: HostPolicy, requireTls = false): boolean {
    return p.kind !== "none" || requireTls;
  }

  /** The policy for one MX host: DANE first (RFC 8461 §2), then MTA-STS, else none. */
  forHost(host: string, port: number): Promise<HostDecision> {
    // Shared while this context lives (TlsPolicies.MEMO_MS): one TLSA lookup per host.
    const key = `${host.toLowerCase()}|${port}`;
    let d = this.#hosts.get(key);
    if (!d) {
      this.#hosts.set(key, d = this.#forHost(host, port));
      d.catch(() => this.#hosts.delete(key));
    }
    return d;
  }

  /** RFC 7672 §2.2.2: DANE applies to a host whose address records are signed too. */
  async #hostSecure(host: string): Promise<boolean> {
    const auth = this.deps.dns.authenticated;
    if (!auth) return false;
    return await auth.call(this.deps.dns, host, "A")
      .catch(() => auth.call(this.deps.dns, host, "AAAA"))
      .catch(() => false);
  }

  async #forHost(host: string, port: number): Promise<HostDecision> {
    const { deps, domain } = this;
    const base = { host, enforce: true, mxOk: true, tlsa: [] as TlsaRecord[] };
    if (this.mxSecure && deps.dns.tlsa && await this.#hostSecure(host)) {
      const name = `_${port}._tcp.${host}`;
      try {
        const t = await deps.dns.tlsa(name);
        if (t.authenticated) {
          const tlsa = usableTlsa(t.records);
          return {
            policy: {
              ...base,
              kind: "dane",
              tlsa,
              report: {
                type: "tlsa",
                domain,
                strings: t.records.map((r) => describe(r, true)),
                mxHost: [host],
              },
            },
          };
        }
      } catch (e) {
        if (!(e instanceof DnsError) || !e.permanent) {
          // RFC 7672 §2.2: a failed TLSA lookup under a signed MX: do not use this host.
          this.#report(
            { type: "tlsa", domain, strings: [], mxHost: [host] },
            "dnssec-invalid",
            host,
          );
          return {
            failure: defer(
              "4.7.5",
              `451 4.7.5 ${host}: TLSA lookup failed: ${(e as Error).message}`,
            ),
          };
        }
      }
    }
    const p = this.sts.policy;
    if (p && p.mode !== "none") {
      const report: ReportedPolicy = {
        type: "sts",
        domain,
        strings: p.text.split(/\r?\n/).filter((l) => l !== ""),
        mxHost: p.mx,
      };
      const mxOk = p.mx.some((pattern) => mxMatches(pattern, host));
      const policy: HostPolicy = {
        ...base,
        kind: "sts",
        enforce: p.mode === "enforce",
        mxOk,
        report,
      };
      if (!mxOk && policy.enforce) {
        // RFC 8461 §4.2 / §5.1: in enforce mode only MX hosts the policy names get mail.
        this.#report(report, "validation-failure", host, undefined, "mx-not-in-policy");
        return {
          failure: defer(
            "4.7.5",
            `451 4.7.5 ${host} is not an MX host of ${domain}'s MTA-STS policy`,
            host,
          ),
        };
      }
      return { policy };
    }
    return {
      policy: { ...base, kind: "none", report: { type: "no-policy-found", domain, strings: [] } },
    };
  }

  /**
   * Judges an open session (STARTTLS done or not): null to go ahead, or the failure that
   * stops delivery on it (the session carried nothing but EHLO/STARTTLS). `requireTls`: the
   * message came with REQUIRETLS (RFC 8689 §4.2.1) — checked after the policy.
   */
  check(p: HostPolicy, session: JudgedSession, requireTls = false): FailureInfo | null {
    return this.#checkPolicy(p, session) ?? (requireTls ? this.#requireTls(p, session) : null);
  }

  /**
   * RFC 8689 §4.2.1: the MX came from DNSSEC or an enforced MTA-STS policy; the certificate
   * verified (PKIX for the MX name, or DANE); the server offers REQUIRETLS. Else this host
   * must not get the message: 4.7.30 (§7.2's code, temporary: the next host, then a retry).
   */
  #requireTls(p: HostPolicy, session: JudgedSession): FailureInfo | null {
    const where = `${p.host} [${session.ip}]`;
    const refuse = (why: string) =>
      defer("4.7.30", `451 4.7.30 ${where}: REQUIRETLS: ${why}`, p.host);
    const mxTrusted = p.kind === "dane" || (p.kind === "sts" && p.enforce) || this.mxSecure;
    if (!mxTrusted) return refuse(`the MX of ${this.domain} is neither DNSSEC-signed nor MTA-STS`);
    const tls = session.tls;
    if (!tls) return refuse("no TLS");
    const authenticated = p.kind === "dane" ? p.tlsa.length > 0 : tls.verified;
    if (!authenticated) return refuse("the certificate is not verified");
    if (!session.extensions?.has("REQUIRETLS")) {
      return refuse("the server does not offer REQUIRETLS");
    }
    return null;
  }

  #checkPolicy(p: HostPolicy, session: JudgedSession): FailureInfo | null {
    const where = `${p.host} [${session.ip}]`;
    const fail = (result: TlsResultType, why: string, status = "4.7.5"): FailureInfo | null => {
      this.#report(p.report, result, p.host, session.ip, why.slice(0, 200));
      // MTA-STS testing (RFC 8461 §5): deliver, but report.
      if (p.kind === "sts" && !p.enforce) {
        log.warn("delivery", "MTA-STS testing policy not met (delivering anyway)", {
          domain: this.domain,
          host: p.host,
          result,
          why,
        });
        return null;
      }
      const what = p.kind === "dane" ? "DANE" : "MTA-STS";
      return defer(
        status,
        `451 ${status} ${where}: ${what} policy of ${this.domain}: ${why}`,
        p.host,
      );
    };
    if (p.kind === "none") {
      if (session.tls) this.#report(p.report, null, p.host, session.ip);
      return null;
    }
    if (!p.mxOk) return fail("validation-failure", "MX host not in the policy");
    const tls = session.tls;
    // RFC 8461 §4.2, RFC 7672 §2.2: TLS is mandatory; no plaintext fallback.
    if (!tls) return fail("starttls-not-supported", "STARTTLS not offered", "4.7.4");
    if (p.kind === "dane") {
      if (p.tlsa.length > 0) {
        const v = daneVerify(session.peerChain ?? [], p.tlsa, [p.host], this.deps.now());
        if (!v.ok) return fail("tlsa-invalid", v.reason);
      }
    } else if (!tls.verified) {
      // RFC 8461 §4.2: the chain must verify and the certificate name the MX host.
      const err = tls.verifyError ?? "";
      const result: TlsResultType = /ALTNAME|host/i.test(err)
        ? "certificate-host-mismatch"
        : /EXPIRED/i.test(err)
        ? "certificate-expired"
        : "certificate-not-trusted";
      return fail(result, `certificate not valid for ${p.host}: ${err}`);
    }
    this.#report(p.report, null, p.host, session.ip);
    return null;
  }

  /** A TLS handshake under a policy failed (the next host is tried): counted for TLS-RPT. */
  handshakeFailed(p: HostPolicy, ip: string, why: string): void {
    if (p.kind !== "none") {
      this.#report(p.report, "validation-failure", p.host, ip, why.slice(0, 200));
    }
  }

  #report(
    policy: ReportedPolicy,
    result: TlsResultType | null,
    mx: string,
    ip?: string,
    reasonCode?: string,
  ): void {
    this.deps.report?.({
      policy,
      failure: result === null ? null : { result, receivingMx: mx, receivingIp: ip, reasonCode },
    });
  }
}
