/**
 * Passwords and SASL: the one path every protocol's login goes through (SMTP AUTH, IMAP
 * LOGIN/AUTHENTICATE, POP3 USER/PASS and AUTH).
 *
 * - Passwords are stored as argon2id (hash-wasm; auth/params.ts) plus SCRAM-SHA-256
 *   verifiers (RFC 7677 / RFC 5802 StoredKey and ServerKey), never plaintext.
 *   The stored string is "<argon2id PHC string> scram-sha-256:<iter>:<salt>:<stored>:<server>".
 * - Logins are checked in a small worker pool (auth/hash_pool.ts), never on the main thread,
 *   and only after the throttle (auth/throttle.ts) has booked the attempt.
 * - Verification is constant-time (argon2 compares in constant time inside hash-wasm;
 *   SCRAM proofs with timingSafeEqual); unknown users cost the same as known ones.
 *
 * @module
 */
import { argon2id, argon2Verify } from "hash-wasm";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type { Account, Store } from "../storage/mod.ts";
import { normalizeEmail } from "../storage/names.ts";
import type { Config } from "./config.ts";
import { log } from "../lib/log.ts";
import { HashPool, HashPoolBusy } from "./auth/hash_pool.ts";
import { ARGON2_PARAMS, SCRAM_ITERATIONS } from "./auth/params.ts";
import {
  b64,
  fakeScramVerifier,
  hmac,
  type ScramBackend,
  ScramExchange,
  scramVerifier,
} from "./auth/scram.ts";
import { type Attempt, LoginThrottle, type ThrottleLimits } from "./auth/throttle.ts";
import { hashApiToken, looksLikeApiToken } from "./auth/api_token.ts";

export type { ThrottleLimits } from "./auth/throttle.ts";

/** The throttle's limits from the `[auth]` config section. */
export function throttleLimits(auth: Config["auth"]): ThrottleLimits {
  return {
    maxFailuresPerAddress: auth.maxFailuresPerAddress,
    maxFailuresPerAccount: auth.maxFailuresPerAccount,
    banTimeMs: auth.banTimeMs,
    exempt: auth.throttleExempt,
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Hashes a password for storage (argon2id + SCRAM-SHA-256 verifiers). CLI side. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const phc = await argon2id({ ...ARGON2_PARAMS, password, salt, outputType: "encoded" });
  const scramSalt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize("NFKC"), scramSalt, SCRAM_ITERATIONS, 32, "sha256");
  const clientKey = hmac(salted, "Client Key");
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = hmac(salted, "Server Key");
  const scram = `scram-sha-256:${SCRAM_ITERATIONS}:${b64(scramSalt)}:${b64(storedKey)}:${
    b64(serverKey)
  }`;
  return `${phc} ${scram}`;
}

/** Checks a password against a stored hash (constant time), on the calling thread. */
export async function verifyPasswordHash(stored: string, password: string): Promise<boolean> {
  const phc = stored.split(" ")[0];
  if (!phc.startsWith("$argon2id$")) return false;
  try {
    return await argon2Verify({ password, hash: phc });
  } catch {
    return false;
  }
}

export type AuthResult =
  | { ok: true; account: Account }
  | { ok: false; reason: "invalid" | "throttled" };

/** One step of a SASL exchange; framing (base64, 334 / "+") is the protocol's job. */
export type SaslStep =
  | { type: "challenge"; data: Uint8Array }
  | { type: "success"; account: Account }
  | { type: "failure"; reason: "invalid" | "throttled" | "malformed" };

export interface SaslExchange {
  /** `input` is the decoded client response; null when the client sent no initial response. */
  step(input: Uint8Array | null): Promise<SaslStep>;
}

export const SASL_MECHANISMS = ["PLAIN", "LOGIN", "SCRAM-SHA-256"] as const;

/** How long a verified login is remembered (see `Authenticator`). */
const VERIFIED_CACHE_TTL_MS = 10 * 60_000;
/** Bound on remembered logins; the cache starts over when full. */
const VERIFIED_CACHE_MAX = 100_000;
/** Longest name and password looked at; longer ones fail without a lookup. */
const MAX_NAME = 320;
const MAX_PASSWORD = 1024;

export interface AuthenticatorOptions {
  /** The clock (tests freeze it). */
  now?: () => number;
  /** `[auth]` limits; missing ones take the defaults of auth/throttle.ts. */
  limits?: Partial<ThrottleLimits>;
  /** Keys the made-up SCRAM salts (auth/secret.ts); a per-process random one if absent. */
  secret?: Uint8Array;
  /** Hashing workers (default: 2). */
  workers?: number;
}

/** Verifies credentials through the throttle and the hashing pool. */
export class Authenticator {
  readonly throttle: LoginThrottle;
  #store: Store;
  #pool: HashPool;
  #secret: Uint8Array;
  #now: () => number;
  /** Verifying a hash for an unknown user costs the same as for a known one. */
  #dummyHash: Promise<string> | null = null;
  /**
   * Recently verified logins (like Dovecot's auth_cache): HMAC(process key; email, stored
   * hash, password) -> expiry. A repeated correct login skips the argon2id run; a wrong
   * password never hits it, so guessing still pays the full price, and a changed password
   * hash invalidates its entries.
   */
  #verified = new Map<string, number>();
  #verifiedKey = randomBytes(32);
  /** argon2id runs under way by the same key: concurrent identical logins share one run. */
  #verifying = new Map<string, Promise<boolean>>();

  constructor(store: Store, opts: AuthenticatorOptions = {}) {
    this.#store = store;
    this.#now = opts.now ?? Date.now;
    this.throttle = new LoginThrottle(opts.limits, this.#now);
    this.#pool = new HashPool({ size: opts.workers ?? 2 });
    this.#secret = opts.secret ?? randomBytes(32);
  }

  /** Stops the hashing workers. */
  close(): void {
    this.#pool.close();
  }

  /** True while this address must wait before its next login attempt. */
  isThrottled(ip: string): boolean {
    return this.throttle.blockedFor(ip) > 0;
  }

  /** Checks an address and password (USER/PASS, LOGIN, AUTH PLAIN, AUTH LOGIN). */
  async verify(email: string, password: string, ip: string): Promise<AuthResult> {
    // Longer names match no account; cut them so the throttle's keys stay small.
    const name = canonicalName(email.length > MAX_NAME ? email.slice(0, MAX_NAME + 1) : email);
    // Booked before anything is checked (issue 13, item 8): parallel guesses cannot all
    // get past the limit before the first failure is recorded.
    const attempt = await this.#admit(ip, name);
    if (!attempt) return { ok: false, reason: "throttled" };
    let good: boolean;
    let account: Account | null = null;
    try {
      if (name.length <= MAX_NAME && password.length <= MAX_PASSWORD) {
        account = await this.#store.getAccount(name);
      }
      good = account
        ? await this.#check(name, account.passwordHash, password)
        : await this.#checkDummy(password);
    } catch (e) {
      attempt.cancel();
      if (e instanceof HashPoolBusy) {
        log.warn("auth", "login refused: password check queue is full", { ip, account: name });
        return { ok: false, reason: "throttled" };
      }
      throw e;
    }
    if (good && account) {
      attempt.succeed();
      return { ok: true, account };
    }
    attempt.fail();
    return { ok: false, reason: this.isThrottled(ip) ? "throttled" : "invalid" };
  }

  /**
   * Checks a JMAP bearer token (core/auth/api_token.ts) through the same throttle as
   * passwords: a wrong token counts as a failed login of the address. Each token hash is its
   * own "account" in the throttle, so failures never slow down other users' tokens.
   */
  async verifyToken(token: string, ip: string): Promise<AuthResult> {
    const hash = hashApiToken(token.slice(0, 200));
    const attempt = await this.#admit(ip, `token:${hash.slice(0, 16)}`);
    if (!attempt) return { ok: false, reason: "throttled" };
    let account: Account | null = null;
    try {
      const found = looksLikeApiToken(token) ? await this.#store.findApiToken(hash) : null;
      if (found) account = await this.#store.getAccountById(found.accountId);
    } catch (e) {
      attempt.cancel();
      throw e;
    }
    if (account) {
      attempt.succeed();
      return { ok: true, account };
    }
    attempt.fail();
    return { ok: false, reason: this.isThrottled(ip) ? "throttled" : "invalid" };
  }

  /** Books an attempt and waits out an account slowdown; null when the address must wait. */
  async #admit(ip: string, name: string): Promise<Attempt | null> {
    const adm = this.throttle.begin(ip, name);
    if (!adm.ok) return null;
    if (adm.attempt.delayMs > 0) await sleep(adm.attempt.delayMs);
    return adm.attempt;
  }

  async #check(name: string, stored: string, password: string): Promise<boolean> {
    const key = createHmac("sha256", this.#verifiedKey).update(name).update("\0")
      .update(stored).update("\0").update(password).digest("base64");
    const now = this.#now();
    if ((this.#verified.get(key) ?? 0) > now) return true;
    let run = this.#verifying.get(key);
    if (!run) {
      const phc = stored.split(" ")[0];
      run = this.#pool.verify(phc, password);
      this.#verifying.set(key, run);
      run.finally(() => this.#verifying.delete(key)).catch(() => {});
    }
    const good = await run;
    if (good) {
      if (this.#verified.size >= VERIFIED_CACHE_MAX) this.#verified.clear();
      this.#verified.set(key, now + VERIFIED_CACHE_TTL_MS);
    }
    return good;
  }

  async #checkDummy(password: string): Promise<boolean> {
    this.#dummyHash ??= this.#pool.hash("not a real password");
    let dummy: string;
    try {
      dummy = await this.#dummyHash;
    } catch (e) {
      this.#dummyHash = null;
      throw e;
    }
    await this.#pool.verify(dummy, password.slice(0, MAX_PASSWORD));
    return false;
  }

  /** Starts a SASL exchange, or null for an unknown mechanism. */
  startSasl(mechanism: string, ip: string): SaslExchange | null {
    switch (mechanism.toUpperCase()) {
      case "PLAIN":
        return new PlainExchange(this, ip);
      case "LOGIN":
        return new LoginExchange(this, ip);
      case "SCRAM-SHA-256":
        return new ScramExchange(this.#scramBackend, ip);
      default:
        return null;
    }
  }

  #scramBackend: ScramBackend = {
    canonical: canonicalName,
    admit: (ip, name) => this.#admit(ip, name),
    lookup: async (name) => {
      const account = name.length <= MAX_NAME ? await this.#store.getAccount(name) : null;
      const real = account ? scramVerifier(account.passwordHash) : null;
      return {
        account: real ? account : null,
        verifier: real ?? fakeScramVerifier(this.#secret, name),
      };
    },
  };
}

/** The name logins are counted and looked up under: the store's normal form when valid. */
function canonicalName(user: string): string {
  try {
    return normalizeEmail(user).email;
  } catch {
    return user.trim().toLowerCase();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. */
class PlainExchange implements SaslExchange {
  constructor(private auth: Authenticator, private ip: string) {}

  async step(input: Uint8Array | null): Promise<SaslStep> {
    if (input === null) return { type: "challenge", data: new Uint8Array() };
    const parts = dec.decode(input).split("\0");
    if (parts.length !== 3) return { type: "failure", reason: "malformed" };
    const [authz, authc, password] = parts;
    // We do not support acting as another user: authzid must be empty or the same user.
    if (authz !== "" && canonicalName(authz) !== canonicalName(authc)) {
      return { type: "failure", reason: "invalid" };
    }
    return toStep(await this.auth.verify(authc, password, this.ip));
  }
}

/** The de-facto LOGIN mechanism (draft-murchison-sasl-login): "Username:", "Password:". */
class LoginExchange implements SaslExchange {
  #user: string | null = null;
  constructor(private auth: Authenticator, private ip: string) {}

  async step(input: Uint8Array | null): Promise<SaslStep> {
    if (this.#user === null) {
      if (input === null || input.length === 0) {
        return { type: "challenge", data: enc.encode("Username:") };
      }
      this.#user = dec.decode(input);
      return { type: "challenge", data: enc.encode("Password:") };
    }
    if (input === null) return { type: "failure", reason: "malformed" };
    return toStep(await this.auth.verify(this.#user, dec.decode(input), this.ip));
  }
}

function toStep(r: AuthResult): SaslStep {
  return r.ok ? { type: "success", account: r.account } : { type: "failure", reason: r.reason };
}
