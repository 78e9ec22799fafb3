/**
 * Passwords and SASL.
 *
 * - Passwords are stored as argon2id (hash-wasm; OWASP parameters m=19 MiB, t=2, p=1) plus
 *   SCRAM-SHA-256 verifiers (RFC 7677 / RFC 5802 StoredKey and ServerKey), never plaintext.
 *   The stored string is "<argon2id PHC string> scram-sha-256:<iter>:<salt>:<stored>:<server>".
 * - Verification is constant-time (argon2 compares in constant time inside hash-wasm;
 *   SCRAM proofs with timingSafeEqual).
 * - Failed attempts are throttled per IP (growing delay, then a lock of the IP for a while)
 *   and per account (growing delay only, capped), so an attacker cannot lock a user out of a
 *   correct login from another address.
 *
 * @module
 */
import { argon2id, argon2Verify } from "hash-wasm";
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Account, Store } from "../storage/mod.ts";

const ARGON = { parallelism: 1, iterations: 2, memorySize: 19456, hashLength: 32 };
const SCRAM_ITERATIONS = 4096;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Hashes a password for storage (argon2id + SCRAM-SHA-256 verifiers). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const phc = await argon2id({ ...ARGON, password, salt, outputType: "encoded" });
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

/** Checks a password against a stored hash (constant time). */
export async function verifyPasswordHash(stored: string, password: string): Promise<boolean> {
  const phc = stored.split(" ")[0];
  if (!phc.startsWith("$argon2id$")) return false;
  try {
    return await argon2Verify({ password, hash: phc });
  } catch {
    return false;
  }
}

interface ScramVerifier {
  iterations: number;
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

function scramVerifier(stored: string): ScramVerifier | null {
  const part = stored.split(" ").find((p) => p.startsWith("scram-sha-256:"));
  if (!part) return null;
  const [, iter, salt, storedKey, serverKey] = part.split(":");
  return {
    iterations: Number(iter),
    salt: unb64(salt),
    storedKey: unb64(storedKey),
    serverKey: unb64(serverKey),
  };
}

function hmac(key: Uint8Array, data: string | Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

function b64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

function unb64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
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

interface FailureRecord {
  count: number;
  first: number;
  lockedUntil: number;
}

export interface ThrottleOptions {
  /** Failures from one IP within `windowMs` before it is locked out. */
  maxIpFailures: number;
  windowMs: number;
  lockMs: number;
  /** Longest delay added to a failed (or account-throttled) attempt. */
  maxDelayMs: number;
}

const DEFAULT_THROTTLE: ThrottleOptions = {
  maxIpFailures: 10,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxDelayMs: 5_000,
};

/** How long a verified login is remembered (see `Authenticator`). */
const VERIFIED_CACHE_TTL_MS = 10 * 60_000;
/** Bound on remembered logins; the cache starts over when full. */
const VERIFIED_CACHE_MAX = 100_000;

/** Verifies credentials and keeps the failure counters. */
export class Authenticator {
  #store: Store;
  #now: () => number;
  #opts: ThrottleOptions;
  #ipFailures = new Map<string, FailureRecord>();
  #accountFailures = new Map<string, FailureRecord>();
  /** Verifying a hash for an unknown user costs the same as for a known one. */
  #dummyHash: Promise<string> | null = null;
  /**
   * Recently verified logins (like Dovecot's auth_cache): HMAC(process key; email, stored
   * hash, password) -> expiry. A repeated correct login skips the argon2id run (tens of ms of
   * CPU on the event loop); a wrong password never hits it, so guessing still pays the full
   * price, and a changed password hash invalidates its entries.
   */
  #verified = new Map<string, number>();
  #verifiedKey = randomBytes(32);
  /** argon2id runs under way by the same key: concurrent identical logins share one run. */
  #verifying = new Map<string, Promise<boolean>>();

  constructor(store: Store, opts?: { now?: () => number; throttle?: Partial<ThrottleOptions> }) {
    this.#store = store;
    this.#now = opts?.now ?? Date.now;
    this.#opts = { ...DEFAULT_THROTTLE, ...opts?.throttle };
  }

  /** True while this IP is locked out after too many failures. */
  isThrottled(ip: string): boolean {
    const r = this.#ipFailures.get(ip);
    return !!r && r.lockedUntil > this.#now();
  }

  /** Checks an address and password (USER/PASS, LOGIN, AUTH PLAIN, AUTH LOGIN). */
  async verify(email: string, password: string, ip: string): Promise<AuthResult> {
    if (this.isThrottled(ip)) return { ok: false, reason: "throttled" };
    const name = email.trim().toLowerCase();
    const account = name.length <= 320 && password.length <= 1024
      ? await this.#store.getAccount(name)
      : null;
    let good = false;
    if (account) {
      const key = createHmac("sha256", this.#verifiedKey).update(name).update("\0")
        .update(account.passwordHash).update("\0").update(password).digest("base64");
      const now = this.#now();
      good = (this.#verified.get(key) ?? 0) > now;
      if (!good) {
        let run = this.#verifying.get(key);
        if (!run) {
          run = verifyPasswordHash(account.passwordHash, password);
          this.#verifying.set(key, run);
          run.finally(() => this.#verifying.delete(key)).catch(() => {});
        }
        good = await run;
        if (good) {
          if (this.#verified.size >= VERIFIED_CACHE_MAX) this.#verified.clear();
          this.#verified.set(key, now + VERIFIED_CACHE_TTL_MS);
        }
      }
    } else {
      this.#dummyHash ??= hashPassword("not a real password");
      await verifyPasswordHash(await this.#dummyHash, password);
    }
    if (good && account) {
      await this.#accountDelay(name);
      this.#ipFailures.delete(ip);
      return { ok: true, account };
    }
    await this.#fail(ip, name);
    return { ok: false, reason: this.isThrottled(ip) ? "throttled" : "invalid" };
  }

  /** Records a failure and waits the growing delay. */
  async #fail(ip: string, account: string): Promise<void> {
    const now = this.#now();
    const ipRec = bump(this.#ipFailures, ip, now, this.#opts.windowMs);
    if (ipRec.count >= this.#opts.maxIpFailures) ipRec.lockedUntil = now + this.#opts.lockMs;
    const accRec = bump(this.#accountFailures, account, now, this.#opts.windowMs);
    const n = Math.max(ipRec.count, accRec.count);
    const delay = n <= 2 ? 0 : Math.min(this.#opts.maxDelayMs, 250 * 2 ** (n - 3));
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.#ipFailures.size > 100_000) prune(this.#ipFailures, now, this.#opts.windowMs);
    if (this.#accountFailures.size > 100_000) {
      prune(this.#accountFailures, now, this.#opts.windowMs);
    }
  }

  /** A targeted account answers more slowly, even to a correct password, but is never locked. */
  async #accountDelay(account: string): Promise<void> {
    const r = this.#accountFailures.get(account);
    if (!r || this.#now() - r.first > this.#opts.windowMs) return;
    const delay = r.count <= 5 ? 0 : Math.min(this.#opts.maxDelayMs, 100 * (r.count - 5));
    if (delay > 0) await new Promise((res) => setTimeout(res, delay));
  }

  /** Starts a SASL exchange, or null for an unknown mechanism. */
  startSasl(mechanism: string, ip: string): SaslExchange | null {
    switch (mechanism.toUpperCase()) {
      case "PLAIN":
        return new PlainExchange(this, ip);
      case "LOGIN":
        return new LoginExchange(this, ip);
      case "SCRAM-SHA-256":
        return new ScramExchange(this, this.#store, ip);
      default:
        return null;
    }
  }

  /** Used by SCRAM, which checks proofs itself. */
  async recordScramResult(ip: string, email: string, ok: boolean): Promise<void> {
    if (ok) this.#ipFailures.delete(ip);
    else await this.#fail(ip, email);
  }
}

function bump(
  map: Map<string, FailureRecord>,
  key: string,
  now: number,
  windowMs: number,
): FailureRecord {
  let r = map.get(key);
  if (!r || now - r.first > windowMs) {
    r = { count: 0, first: now, lockedUntil: r?.lockedUntil ?? 0 };
    map.set(key, r);
  }
  r.count++;
  return r;
}

function prune(map: Map<string, FailureRecord>, now: number, windowMs: number): void {
  for (const [k, r] of map) if (now - r.first > windowMs && r.lockedUntil < now) map.delete(k);
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
    if (authz !== "" && authz.toLowerCase() !== authc.toLowerCase()) {
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

/** RFC 5802 / RFC 7677 SCRAM-SHA-256, without channel binding. */
class ScramExchange implements SaslExchange {
  #state: "first" | "final" | "done" = "first";
  #account: Account | null = null;
  #verifier: ScramVerifier | null = null;
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #gs2 = "";
  #serverSignature: Uint8Array | null = null;
  #email = "";

  constructor(private auth: Authenticator, private store: Store, private ip: string) {}

  async step(input: Uint8Array | null): Promise<SaslStep> {
    if (this.#state === "first") {
      if (input === null || input.length === 0) {
        return { type: "challenge", data: new Uint8Array() };
      }
      return await this.#first(dec.decode(input));
    }
    if (this.#state === "final") {
      if (input === null) return { type: "failure", reason: "malformed" };
      return await this.#final(dec.decode(input));
    }
    // Client acknowledged server-final with an empty response.
    if (this.#account && this.#serverSignature) return { type: "success", account: this.#account };
    return { type: "failure", reason: "invalid" };
  }

  async #first(msg: string): Promise<SaslStep> {
    if (this.auth.isThrottled(this.ip)) return { type: "failure", reason: "throttled" };
    // gs2-header: "n,," or "y,," (no channel binding) ; "p=" is not supported.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(msg);
    if (!m) return { type: "failure", reason: "malformed" };
    this.#gs2 = `${m[1]},${m[2] ?? ""},`;
    this.#clientFirstBare = m[3];
    const attrs = parseAttrs(this.#clientFirstBare);
    const user = attrs.get("n");
    const cnonce = attrs.get("r");
    if (!user || !cnonce) return { type: "failure", reason: "malformed" };
    this.#email = user.replace(/=2C/g, ",").replace(/=3D/g, "=").toLowerCase();
    this.#account = await this.store.getAccount(this.#email);
    this.#verifier = this.#account ? scramVerifier(this.#account.passwordHash) : null;
    // Unknown users get a plausible, stable-looking challenge so they cannot be enumerated.
    const salt = this.#verifier?.salt ?? createHash("sha256").update(this.#email).digest()
      .subarray(0, 16);
    const iterations = this.#verifier?.iterations ?? SCRAM_ITERATIONS;
    this.#nonce = cnonce + b64(randomBytes(18));
    this.#serverFirst = `r=${this.#nonce},s=${b64(salt)},i=${iterations}`;
    this.#state = "final";
    return { type: "challenge", data: enc.encode(this.#serverFirst) };
  }

  async #final(msg: string): Promise<SaslStep> {
    this.#state = "done";
    const idx = msg.lastIndexOf(",p=");
    if (idx < 0) return { type: "failure", reason: "malformed" };
    const withoutProof = msg.slice(0, idx);
    const attrs = parseAttrs(msg);
    const proofB64 = attrs.get("p") ?? "";
    if (attrs.get("r") !== this.#nonce || attrs.get("c") !== b64(enc.encode(this.#gs2))) {
      await this.auth.recordScramResult(this.ip, this.#email, false);
      return { type: "failure", reason: "invalid" };
    }
    const v = this.#verifier;
    let ok = false;
    if (v) {
      const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
      const clientSignature = hmac(v.storedKey, authMessage);
      let proof: Uint8Array;
      try {
        proof = unb64(proofB64);
      } catch {
        proof = new Uint8Array();
      }
      if (proof.length === clientSignature.length) {
        const clientKey = proof.map((b, i) => b ^ clientSignature[i]);
        const stored = createHash("sha256").update(clientKey).digest();
        ok = timingSafeEqual(stored, v.storedKey);
      }
      if (ok) this.#serverSignature = hmac(v.serverKey, authMessage);
    }
    await this.auth.recordScramResult(this.ip, this.#email, ok);
    if (!ok || !this.#serverSignature) return { type: "failure", reason: "invalid" };
    return { type: "challenge", data: enc.encode(`v=${b64(this.#serverSignature)}`) };
  }
}

function parseAttrs(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(",")) {
    const i = part.indexOf("=");
    if (i === 1) out.set(part[0], part.slice(2));
  }
  return out;
}
