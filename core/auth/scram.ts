/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: message parsing, the proof
 * check, and the made-up verifier that an unknown user gets, so the challenge never tells
 * whether an account exists.
 *
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Account } from "../../storage/mod.ts";
import { SCRAM_ITERATIONS } from "./params.ts";
import type { Attempt } from "./throttle.ts";

export interface ScramVerifier {
  iterations: number;
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** Reads the "scram-sha-256:<iter>:<salt>:<stored>:<server>" part of a stored hash. */
export function scramVerifier(stored: string): ScramVerifier | null {
  const part = stored.split(" ").find((p) => p.startsWith("scram-sha-256:"));
  if (!part) return null;
  const [, iter, salt, storedKey, serverKey] = part.split(":");
  try {
    return {
      iterations: Number(iter),
      salt: unb64(salt),
      storedKey: unb64(storedKey),
      serverKey: unb64(serverKey),
    };
  } catch {
    return null;
  }
}

/**
 * The verifier an unknown name gets: salt and keys are HMACs of the name under the server
 * secret, so they are stable per name (a second probe sees the same salt, as for a real
 * account), unpredictable without the secret, and no proof can match them. The iteration
 * count is the one real verifiers are made with.
 */
export function fakeScramVerifier(secret: Uint8Array, name: string): ScramVerifier {
  const derive = (label: string) => hmac(secret, `denomail scram ${label}\0${name}`);
  return {
    iterations: SCRAM_ITERATIONS,
    salt: derive("salt").subarray(0, 16),
    storedKey: derive("stored-key"),
    serverKey: derive("server-key"),
  };
}

/** What the exchange needs from the authenticator. */
export interface ScramBackend {
  /** Canonical login name (the throttle and the fake salt key on it). */
  canonical(user: string): string;
  /** Books the attempt with the throttle; null when the client must wait. */
  admit(ip: string, name: string): Promise<Attempt | null>;
  /** The account and its real verifier, or null with a made-up verifier. */
  lookup(name: string): Promise<{ account: Account | null; verifier: ScramVerifier }>;
}

export type ScramStep =
  | { type: "challenge"; data: Uint8Array }
  | { type: "success"; account: Account }
  | { type: "failure"; reason: "invalid" | "throttled" | "malformed" };

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Longest login name and nonce accepted. */
const MAX_NAME = 320;
const MAX_NONCE = 256;

/** RFC 5802 §5 exchange, server side: client-first, client-final, then an empty ack. */
export class ScramExchange {
  #state: "first" | "final" | "done" = "first";
  #account: Account | null = null;
  #verifier: ScramVerifier | null = null;
  #attempt: Attempt | null = null;
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #gs2 = "";
  #serverSignature: Uint8Array | null = null;

  constructor(private backend: ScramBackend, private ip: string) {}

  async step(input: Uint8Array | null): Promise<ScramStep> {
    if (this.#state === "first") {
      if (input === null || input.length === 0) {
        return { type: "challenge", data: new Uint8Array() };
      }
      return await this.#first(dec.decode(input));
    }
    if (this.#state === "final") {
      this.#state = "done";
      if (input === null) return { type: "failure", reason: "malformed" };
      return this.#final(dec.decode(input));
    }
    // RFC 5802 §5: the client acknowledged server-final with an empty response.
    if (this.#account && this.#serverSignature) return { type: "success", account: this.#account };
    return { type: "failure", reason: "invalid" };
  }

  async #first(msg: string): Promise<ScramStep> {
    const first = parseClientFirst(msg);
    if (first === "malformed") return { type: "failure", reason: "malformed" };
    if (first === "refused") return { type: "failure", reason: "invalid" };
    const name = this.backend.canonical(first.user);
    // RFC 5802 §5.1 "a=": we log in as nobody but the authenticated user, so an authzid
    // naming someone else is refused, not ignored.
    if (first.authzid !== null && this.backend.canonical(first.authzid) !== name) {
      return { type: "failure", reason: "invalid" };
    }
    const attempt = await this.backend.admit(this.ip, name);
    if (!attempt) return { type: "failure", reason: "throttled" };
    // Counted as a failure now (a probe for the salt is one); a valid proof takes it back.
    attempt.fail();
    this.#attempt = attempt;
    const { account, verifier } = await this.backend.lookup(name);
    this.#account = account;
    this.#verifier = verifier;
    this.#gs2 = first.gs2;
    this.#clientFirstBare = first.bare;
    this.#nonce = first.nonce + b64(randomBytes(18));
    this.#serverFirst = `r=${this.#nonce},s=${b64(verifier.salt)},i=${verifier.iterations}`;
    this.#state = "final";
    return { type: "challenge", data: enc.encode(this.#serverFirst) };
  }

  #final(msg: string): ScramStep {
    // RFC 5802 §7: client-final-message = channel-binding "," nonce ["," extensions] "," proof
    const idx = msg.lastIndexOf(",p=");
    if (idx < 0) return { type: "failure", reason: "malformed" };
    const withoutProof = msg.slice(0, idx);
    const parts = withoutProof.split(",");
    const cbind = parts[0]?.startsWith("c=") ? parts[0].slice(2) : null;
    const nonce = parts[1]?.startsWith("r=") ? parts[1].slice(2) : null;
    if (cbind === null || nonce === null) return { type: "failure", reason: "malformed" };
    if (nonce !== this.#nonce || cbind !== b64(enc.encode(this.#gs2))) {
      return { type: "failure", reason: "invalid" };
    }
    let proof: Uint8Array;
    try {
      proof = unb64(msg.slice(idx + 3));
    } catch {
      return { type: "failure", reason: "malformed" };
    }
    // The same work whether the account exists or not (the made-up verifier never matches).
    const v = this.#verifier!;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = hmac(v.storedKey, authMessage);
    let ok = false;
    if (proof.length === clientSignature.length) {
      const clientKey = proof.map((b, i) => b ^ clientSignature[i]);
      const stored = createHash("sha256").update(clientKey).digest();
      ok = timingSafeEqual(stored, v.storedKey) && this.#account !== null;
    }
    if (!ok) return { type: "failure", reason: "invalid" };
    this.#attempt?.succeed();
    this.#serverSignature = hmac(v.serverKey, authMessage);
    return { type: "challenge", data: enc.encode(`v=${b64(this.#serverSignature)}`) };
  }
}

interface ClientFirst {
  gs2: string;
  authzid: string | null;
  bare: string;
  user: string;
  nonce: string;
}

/**
 * RFC 5802 §7: gs2-header client-first-message-bare, where
 * gs2-header = ("n" / "y" / "p=" cb-name) "," [authzid] "," and
 * client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions].
 * "refused": well-formed but not allowed (an "m=" extension, RFC 5802 §5.1).
 */
export function parseClientFirst(msg: string): ClientFirst | "malformed" | "refused" {
  const c1 = msg.indexOf(",");
  const c2 = c1 < 0 ? -1 : msg.indexOf(",", c1 + 1);
  if (c2 < 0) return "malformed";
  const flag = msg.slice(0, c1);
  const authz = msg.slice(c1 + 1, c2);
  // "p=": channel binding, which we do not offer (no -PLUS mechanism).
  if (flag !== "n" && flag !== "y") return "malformed";
  let authzid: string | null = null;
  if (authz !== "") {
    if (!authz.startsWith("a=")) return "malformed";
    authzid = decodeSaslName(authz.slice(2));
    if (!authzid) return "malformed";
  }
  const bare = msg.slice(c2 + 1);
  const attrs = bare.split(",");
  // RFC 5802 §5.1 "m": "its presence in a client or a server message MUST cause
  // authentication failure when the attribute is parsed by the other end."
  if (attrs[0]?.startsWith("m=")) return "refused";
  if (!attrs[0]?.startsWith("n=") || !attrs[1]?.startsWith("r=")) return "malformed";
  const user = decodeSaslName(attrs[0].slice(2));
  const nonce = attrs[1].slice(2);
  if (!user || user.length > MAX_NAME) return "malformed";
  // RFC 5802 §7: c-nonce is printable ASCII except ",".
  if (nonce === "" || nonce.length > MAX_NONCE) return "malformed";
  for (let i = 0; i < nonce.length; i++) {
    const c = nonce.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return "malformed";
  }
  // Further extensions: "unrecognized attributes ... MUST be ignored" (RFC 5802 §7).
  return { gs2: msg.slice(0, c2 + 1), authzid, bare, user, nonce };
}

/**
 * RFC 5802 §5.1: "," and "=" in a name are sent as "=2C" and "=3D"; "If the server
 * receives a username that contains '=' not followed by either '2C' or '3D', then the
 * server MUST fail the authentication." Returns null then (or for an empty name).
 */
export function decodeSaslName(s: string): string | null {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "=") {
      out += s[i];
      continue;
    }
    const code = s.slice(i + 1, i + 3);
    if (code === "2C") out += ",";
    else if (code === "3D") out += "=";
    else return null;
    i += 2;
  }
  return out === "" ? null : out;
}

export function hmac(key: Uint8Array, data: string | Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

export function b64(b: Uint8Array): string {
  let s = "";
  for (const byte of b) s += String.fromCharCode(byte);
  return btoa(s);
}

export function unb64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
