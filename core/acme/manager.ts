/**
 * Keeps the served certificate issued and fresh: at start and every 12 hours, renews when
 * the certificate in data_dir/tls is missing, self-signed, lacks a configured name, or
 * expires within 30 days. A renewal keeps the certificate's key (DANE's TLSA stays valid). A failed attempt is logged and retried after 5 min, doubling to
 * 6 h. A new pair goes through the TLS provider's reload (checked by a test handshake,
 * applied to every TLS listener, open connections untouched).
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { AcmeConfig } from "../config.ts";
import { AcmeChallenges } from "./challenges.ts";
import { accountKey, acmePaths, installPair } from "./files.ts";
import { issueCertificate } from "./issue.ts";
import { EcKey } from "./jws.ts";
import { log } from "../../lib/log.ts";

const DAY_MS = 86_400_000;
export const RENEW_BEFORE_MS = 30 * DAY_MS;
const CHECK_EVERY_MS = 12 * 3_600_000;
const RETRY_FIRST_MS = 5 * 60_000;
const RETRY_MAX_MS = 6 * 3_600_000;

/** What the manager needs of core/tls.ts's TlsProvider. */
export interface Reloadable {
  reload(): Promise<boolean>;
}

export class AcmeManager {
  readonly challenges = new AcmeChallenges();
  #cfg: AcmeConfig;
  #paths;
  #tls: Reloadable;
  #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #running: Promise<boolean> | null = null;
  #stopped = false;
  #delayMs = 0;

  constructor(cfg: AcmeConfig, dataDir: string, tls: Reloadable, now: () => number) {
    this.#cfg = cfg;
    this.#paths = acmePaths(dataDir);
    this.#tls = tls;
    this.#now = now;
  }

  /** Checks at once (in the background), then on schedule. */
  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.challenges.close();
  }

  /** Why the served certificate needs renewing now, or null when it does not. */
  async renewalReason(): Promise<string | null> {
    let x: X509Certificate;
    try {
      x = new X509Certificate(await Deno.readTextFile(this.#paths.cert));
    } catch {
      return "no certificate yet";
    }
    if (x.issuer === x.subject && x.verify(x.publicKey)) return "the certificate is self-signed";
    const names = new Set(
      (x.subjectAltName ?? "").split(", ").filter((n) => n.startsWith("DNS:")).map((n) =>
        n.slice(4).toLowerCase()
      ),
    );
    const missing = this.#cfg.domains.filter((d) => !names.has(d));
    if (missing.length) return `the certificate does not name ${missing.join(", ")}`;
    const left = Date.parse(x.validTo) - this.#now();
    if (left < RENEW_BEFORE_MS) {
      return `the certificate expires in ${Math.max(0, Math.floor(left / DAY_MS))} days`;
    }
    return null;
  }

  /**
   * Renews if due (or always with `force`); true when a new certificate is being served.
   * Concurrent calls share one attempt. Failures are logged, not thrown.
   */
  check(force = false): Promise<boolean> {
    this.#running ??= this.#check(force).finally(() => this.#running = null);
    return this.#running;
  }

  async #check(force: boolean): Promise<boolean> {
    const reason = force ? "renewal forced" : await this.renewalReason();
    if (!reason) {
      this.#failures = 0;
      this.#schedule(CHECK_EVERY_MS);
      return false;
    }
    const domains = this.#cfg.domains.join(", ");
    log.info("acme", `requesting a certificate for ${domains}: ${reason}`);
    try {
      const key = await accountKey(this.#paths);
      const issued = await issueCertificate(
        this.#cfg,
        key,
        this.challenges,
        this.#now,
        await this.#reusableKey(),
      );
      if (this.#stopped) return false; // the server is going away: leave the files alone
      await installPair(this.#paths, issued.certPem, issued.keyPem);
      if (!(await this.#tls.reload())) throw new Error("the new certificate did not load");
      const x = new X509Certificate(issued.certPem);
      log.info("acme", `certificate for ${domains} installed, valid until ${x.validTo}`);
      this.#failures = 0;
      this.#schedule(CHECK_EVERY_MS);
      return true;
    } catch (e) {
      this.#failures++;
      const wait = Math.min(RETRY_FIRST_MS * 2 ** (this.#failures - 1), RETRY_MAX_MS);
      log.warn(
        "acme",
        `certificate request for ${domains} failed (attempt ${this.#failures}), retrying in ${
          Math.round(wait / 60_000)
        } min: ${oneLine((e as Error).message)}`,
      );
      this.#schedule(wait);
      return false;
    }
  }

  /** The delay of the next scheduled check (for tests and the log). */
  get nextCheckInMs(): number {
    return this.#delayMs;
  }

  /**
   * The served key when it is one of ours (P-256), so that a renewal keeps the public key
   * and the TLSA record (`3 1 1`, RFC 7672) published for it stays right; else a new one
   * (the first certificate replaces the self-signed RSA pair).
   */
  async #reusableKey(): Promise<EcKey | undefined> {
    try {
      return EcKey.fromPem(await Deno.readTextFile(this.#paths.key));
    } catch {
      return undefined;
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#delayMs = ms;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.check(), ms);
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}

/** Error text (parts of it come from the ACME server) as one bounded log line. */
function oneLine(text: string): string {
  return text.replace(/[^ -~\u00a0-\uffff]/g, " ").slice(0, 500);
}
