/**
 * The SASL exchange loop of AUTH (SMTP, RFC 4954; POP3, RFC 5034) and AUTHENTICATE (IMAP,
 * RFC 9051 §6.2.2): challenges out, responses in, until core/auth's exchange succeeds or
 * fails. The protocol supplies only its wire syntax (SMTP "334 ", IMAP and POP3 "+ ") and
 * turns the outcome into its own reply.
 *
 * Invariants:
 * - At most MAX_SASL_ROUNDS steps per exchange, in every protocol (SCRAM-SHA-256 needs three);
 *   the exchange fails instead of sending one more challenge.
 * - A response line is at most MAX_SASL_LINE octets (the protocol's `readLine` enforces it).
 * - "*" cancels (RFC 4954 §4, RFC 5034 §4, RFC 9051 §6.2.2); "=" is an empty initial
 *   response (RFC 4954 §4, RFC 5034 §4, RFC 4959 §3); anything else must be strict base64.
 * - The login name the client gave is kept (never the password) for the failure log line.
 *
 * @module
 */
import type { SaslExchange, SaslStep } from "../auth.ts";
import { watchLogin } from "./sasl_login.ts";

/** Steps one exchange may take before it is abandoned (SCRAM-SHA-256 needs three). */
export const MAX_SASL_ROUNDS = 10;
/** Longest client response line: RFC 4954 §4 sets 12288 octets (SCRAM needs a few hundred). */
export const MAX_SASL_LINE = 12 * 1024;

/** The protocol's side of the exchange. */
export interface SaslWire {
  /** Sends one challenge (base64 text) in the protocol's syntax and writes it out. */
  challenge(base64: string): Promise<void>;
  /** Reads one response line of at most `maxLen` octets, with the protocol's timeout. */
  readLine(maxLen: number): Promise<string>;
  /** Called as soon as the client has named itself (the refusal log line wants it). */
  onLogin?(login: string): void;
}

/** Why an exchange did not log the client in. */
export type SaslFailure =
  | Extract<SaslStep, { type: "failure" }>["reason"]
  | "cancelled"
  | "bad_base64"
  | "too_many_rounds";

/** The end of an exchange, with the login name the client gave ("" when none). */
export type SaslOutcome =
  & { login: string }
  & (
    | { ok: true; account: Extract<SaslStep, { type: "success" }>["account"] }
    | { ok: false; reason: SaslFailure }
  );

/** Runs `exchange` of `mechanism` from the client's initial response (null: none sent). */
export async function runSasl(
  mechanism: string,
  exchange: SaslExchange,
  initial: string | null,
  wire: SaslWire,
): Promise<SaslOutcome> {
  const watched = watchLogin(mechanism, exchange);
  const failed = (reason: SaslFailure): SaslOutcome => ({
    ok: false,
    reason,
    login: watched.login,
  });
  let input = initial === null ? null : initial === "=" ? new Uint8Array() : decodeBase64(initial);
  for (let round = 0;; round++) {
    if (input === undefined) return failed("bad_base64");
    const step = await watched.step(input);
    if (watched.login !== "") wire.onLogin?.(watched.login);
    if (step.type === "success") return { ok: true, account: step.account, login: watched.login };
    if (step.type === "failure") return failed(step.reason);
    if (round + 1 >= MAX_SASL_ROUNDS) return failed("too_many_rounds");
    await wire.challenge(encodeBase64(step.data));
    const answer = (await wire.readLine(MAX_SASL_LINE)).trim();
    if (answer === "*") return failed("cancelled");
    input = decodeBase64(answer);
  }
}

/** Standard base64 of bytes (the challenges). */
export function encodeBase64(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Strict base64 (padding required, no white space) to bytes; undefined when malformed. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
