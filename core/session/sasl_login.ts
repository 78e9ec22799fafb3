/**
 * The login name a client gave in a SASL exchange, for the log line of a failed
 * authentication (CONTRACT, Logging). Every protocol's AUTH/AUTHENTICATE wraps its exchange
 * with `watchLogin`; the exchange itself (core/auth.ts) is untouched.
 *
 * Only the name is kept: the password part of a PLAIN response is dropped at once, and the
 * name is cut (log.clientText) so a hostile client cannot flood the log.
 *
 * @module
 */
import type { SaslExchange, SaslStep } from "../auth.ts";
import { clientText } from "../../lib/log.ts";

const dec = new TextDecoder();

/** A SASL exchange that remembers the login name from the client's responses. */
export interface WatchedExchange extends SaslExchange {
  /** The authentication identity the client named, once it has; "" before. */
  readonly login: string;
}

/** The name in one client response of `mechanism`, or null when this response has none. */
export function loginInResponse(mechanism: string, input: Uint8Array): string | null {
  const text = dec.decode(input);
  switch (mechanism) {
    case "PLAIN": {
      // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
      const parts = text.split("\0");
      return parts.length >= 2 ? parts[1] : null;
    }
    case "LOGIN":
      // draft-murchison-sasl-login: the first response is the user name.
      return text === "" ? null : text;
    case "SCRAM-SHA-256": {
      // RFC 5802 §7: gs2-header "," n=saslname; "=2C" and "=3D" stand for "," and "=".
      const parts = text.split(",", 4);
      if (parts.length < 3 || !parts[2].startsWith("n=")) return null;
      return parts[2].slice(2).replaceAll("=2C", ",").replaceAll("=3D", "=");
    }
    default:
      return null;
  }
}

/** Wraps `exchange`; `login` is the name from the first client response that carries one. */
export function watchLogin(mechanism: string, exchange: SaslExchange): WatchedExchange {
  let login = "";
  return {
    get login() {
      return login;
    },
    step(input: Uint8Array | null): Promise<SaslStep> {
      if (login === "" && input !== null && input.length > 0) {
        const name = loginInResponse(mechanism, input);
        if (name !== null) login = clientText(name);
      }
      return exchange.step(input);
    },
  };
}
