/**
 * Failed-login throttle, per client address and per account (issue 13, items 8 and 10).
 *
 * - An attempt is counted *before* its password is checked: `begin` books it as a failure
 *   at once and `Attempt.succeed` takes it back. So 60 parallel guesses cannot all pass the
 *   check before the first one is recorded, and an abandoned exchange counts as a failure.
 * - Address: after `maxFailuresPerAddress` failures the address waits a delay that doubles
 *   with each further failure (1 s, 2 s, 4 s, ... up to `banTimeMs`) and, past the limit,
 *   may have only one attempt under way. It is never simply locked for `banTimeMs`.
 * - Account: past `maxFailuresPerAccount` failures every attempt on it is slowed down by a
 *   growing delay (capped), so a guesser is slowed but the owner can still log in.
 * - A success forgives only the failures this address made against *this* account; another
 *   account's success never resets the address's count.
 * - Counts are forgotten after `banTimeMs` without a failure. Exempt networks (default:
 *   loopback) are never counted or delayed.
 * - IPv6 clients are counted per /64 (see networks.ts).
 *
 * Pure bookkeeping: the clock is injected and delays are returned, never slept here.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { clientKey, NetworkList } from "./networks.ts";

export interface ThrottleLimits {
  maxFailuresPerAddress: number;
  maxFailuresPerAccount: number;
  /** Longest wait imposed on an address; also how long failures are remembered. */
  banTimeMs: number;
  /** Networks never throttled ("127.0.0.0/8", "::1", ...). */
  exempt: readonly string[];
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  maxFailuresPerAddress: 10,
  maxFailuresPerAccount: 20,
  banTimeMs: 15 * 60_000,
  exempt: ["127.0.0.0/8", "::1"],
};

/** First wait of an address that reached its limit; doubles with each further failure. */
const ADDRESS_BASE_DELAY_MS = 1_000;
/** First slowdown of an account past its limit; doubles, up to ACCOUNT_MAX_DELAY_MS. */
const ACCOUNT_BASE_DELAY_MS = 250;
/** An account is slowed, never locked: a correct login waits at most this long. */
const ACCOUNT_MAX_DELAY_MS = 15_000;
/** Per address, the accounts whose failures a success can forgive (bounds memory). */
const MAX_ACCOUNTS_PER_ADDRESS = 32;
/** Records kept before expired ones are pruned, and the hard bound after pruning. */
const PRUNE_AT = 50_000;
const MAX_RECORDS = 100_000;

interface AddressRecord {
  failures: number;
  /** Attempts booked but not finished yet. */
  pending: number;
  last: number;
  blockedUntil: number;
  byAccount: Map<string, number>;
}

interface AccountRecord {
  failures: number;
  last: number;
}

/** An admitted attempt: finish it exactly once with `succeed` or `fail` (or `cancel`). */
export interface Attempt {
  /** Wait this long before checking the password (the account is being slowed down). */
  readonly delayMs: number;
  /**
   * The password was right: takes this attempt back and forgives this address's failures
   * on this account. Also valid after `fail` (SCRAM books its probe as failed at once).
   */
  succeed(): void;
  /** The password was wrong, or (SCRAM) a probe that only a later `succeed` takes back. */
  fail(): void;
  /** The password was never checked (server busy): the attempt does not count. */
  cancel(): void;
}

export type Admission =
  | { ok: true; attempt: Attempt }
  | { ok: false; retryInMs: number };

export class LoginThrottle {
  readonly limits: ThrottleLimits;
  #now: () => number;
  #exempt: NetworkList;
  #addresses = new Map<string, AddressRecord>();
  #accounts = new Map<string, AccountRecord>();

  constructor(limits: Partial<ThrottleLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.#now = now;
    this.#exempt = new NetworkList(this.limits.exempt);
  }

  /** The addresses (IPv6: /64 keys) that must wait now, with their failures and until when. */
  blocked(): Array<{ address: string; failures: number; until: number }> {
    const now = this.#now();
    const out = [];
    for (const [address, r] of this.#addresses) {
      if (r.blockedUntil > now) out.push({ address, failures: r.failures, until: r.blockedUntil });
    }
    return out;
  }

  /** Milliseconds until this address may try again; 0 when it may now. */
  blockedFor(ip: string): number {
    if (this.#exempt.has(ip)) return 0;
    const r = this.#address(clientKey(ip), this.#now());
    return r ? Math.max(0, r.blockedUntil - this.#now()) : 0;
  }

  /** Books one login attempt of `account` from `ip`, or refuses it before any check. */
  begin(ip: string, account: string): Admission {
    if (this.#exempt.has(ip)) return { ok: true, attempt: EXEMPT };
    const now = this.#now();
    const key = clientKey(ip);
    let a = this.#address(key, now);
    if (a && a.blockedUntil > now) return { ok: false, retryInMs: a.blockedUntil - now };
    // Past the limit, one attempt at a time: its failure sets the next (longer) wait.
    if (a && a.failures >= this.limits.maxFailuresPerAddress && a.pending > 0) {
      return { ok: false, retryInMs: ADDRESS_BASE_DELAY_MS };
    }
    if (!a) {
      this.#bound(this.#addresses, now);
      a = { failures: 0, pending: 0, last: now, blockedUntil: 0, byAccount: new Map() };
      this.#addresses.set(key, a);
    }
    a.failures++;
    a.pending++;
    a.last = now;
    const mine = a.byAccount.get(account);
    if (mine !== undefined || a.byAccount.size < MAX_ACCOUNTS_PER_ADDRESS) {
      a.byAccount.set(account, (mine ?? 0) + 1);
    }
    let acc = this.#account(account, now);
    if (!acc) {
      this.#bound(this.#accounts, now);
      acc = { failures: 0, last: now };
      this.#accounts.set(account, acc);
    }
    acc.failures++;
    acc.last = now;
    const over = acc.failures - this.limits.maxFailuresPerAccount;
    const delayMs = over <= 0 ? 0 : Math.min(
      ACCOUNT_MAX_DELAY_MS,
      this.limits.banTimeMs,
      ACCOUNT_BASE_DELAY_MS * 2 ** Math.min(over - 1, 30),
    );
    if (delayMs > 0) {
      log.warn("auth", "account slowed down after failed logins", {
        account,
        ip,
        failures: acc.failures - 1,
        delay_ms: delayMs,
      });
    }
    const rec = a, accRec = acc;
    let state: "open" | "failed" | "done" = "open";
    const finish = (next: "failed" | "done") => {
      if (state === "open") rec.pending--;
      else if (state === "done" || next === "failed") return false;
      state = next;
      return true;
    };
    return {
      ok: true,
      attempt: {
        delayMs,
        succeed: () => {
          if (!finish("done")) return;
          // Forgive what this address got wrong for this account (its owner, evidently).
          // At least this attempt itself (an account not tracked here: only that).
          const n = Math.max(1, rec.byAccount.get(account) ?? 0);
          rec.byAccount.delete(account);
          rec.failures = Math.max(0, rec.failures - n);
          if (rec.failures < this.limits.maxFailuresPerAddress) rec.blockedUntil = 0;
          accRec.failures = Math.max(0, accRec.failures - n);
        },
        fail: () => {
          if (!finish("failed")) return;
          const now = this.#now();
          rec.last = now;
          accRec.last = now;
          const over = rec.failures - this.limits.maxFailuresPerAddress;
          if (over < 0) return;
          const wait = Math.min(
            this.limits.banTimeMs,
            ADDRESS_BASE_DELAY_MS * 2 ** Math.min(over, 30),
          );
          // Parallel attempts finishing together extend the wait once, and log it once.
          if (now + wait <= rec.blockedUntil) return;
          rec.blockedUntil = now + wait;
          log.warn("auth", "address throttled after failed logins", {
            ip,
            account,
            failures: rec.failures,
            wait_ms: wait,
          });
        },
        cancel: () => {
          if (state !== "open" || !finish("done")) return;
          rec.failures = Math.max(0, rec.failures - 1);
          const mine = rec.byAccount.get(account);
          if (mine !== undefined) rec.byAccount.set(account, Math.max(0, mine - 1));
          accRec.failures = Math.max(0, accRec.failures - 1);
        },
      },
    };
  }

  #address(key: string, now: number): AddressRecord | null {
    const r = this.#addresses.get(key);
    if (!r) return null;
    if (r.pending === 0 && r.blockedUntil <= now && now - r.last > this.limits.banTimeMs) {
      this.#addresses.delete(key);
      return null;
    }
    return r;
  }

  #account(key: string, now: number): AccountRecord | null {
    const r = this.#accounts.get(key);
    if (!r) return null;
    if (now - r.last > this.limits.banTimeMs) {
      this.#accounts.delete(key);
      return null;
    }
    return r;
  }

  /** Keeps the maps bounded: drop expired records, then (under a flood) the oldest idle ones. */
  #bound(map: Map<string, AddressRecord | AccountRecord>, now: number): void {
    if (map.size < PRUNE_AT) return;
    const ttl = this.limits.banTimeMs;
    const idle = (r: AddressRecord | AccountRecord) =>
      !("pending" in r) || (r.pending === 0 && r.blockedUntil <= now);
    for (const [k, r] of map) if (idle(r) && now - r.last > ttl) map.delete(k);
    for (const [k, r] of map) {
      if (map.size < MAX_RECORDS) break;
      if (idle(r)) map.delete(k);
    }
  }
}

const EXEMPT: Attempt = { delayMs: 0, succeed() {}, fail() {}, cancel() {} };
