/**
 * CAPABILITY (RFC 9051 §6.1.1) and the capability list itself, which depends on the state
 * and the transport. Only what is implemented is advertised.
 *
 * @module
 */
import type { SessionState } from "../context.ts";
import { noArgs } from "../context.ts";
import { untagged } from "../response.ts";

/** What the capability list depends on. */
export interface CapabilityInput {
  state: SessionState;
  tls: boolean;
  plaintextAuth: boolean;
  maxMessageBytes: number;
  /** COMPRESS already ran (RFC 4978). */
  compressed?: boolean;
}

/** The capability list (RFC 9051 §7.2.2). */
export function capabilities(input: CapabilityInput): string[] {
  const caps = ["IMAP4rev1", "IMAP4rev2"];
  if (input.state === "not-authenticated") {
    // RFC 9051 §6.2.1: STARTTLS only on a connection that is not yet encrypted.
    if (!input.tls) caps.push("STARTTLS");
    if (input.plaintextAuth) {
      caps.push("AUTH=PLAIN", "AUTH=LOGIN", "AUTH=SCRAM-SHA-256");
    } else {
      // RFC 9051 §6.2.3: LOGIN (and password mechanisms) refused until TLS.
      caps.push("LOGINDISABLED");
    }
    caps.push("SASL-IR"); // RFC 4959
  }
  // RFC 7888 §5: LITERAL+ and LITERAL- are never advertised together. Strangers get
  // LITERAL- (non-synchronizing literals up to 4096 octets); logged-in users LITERAL+.
  caps.push(input.state === "not-authenticated" ? "LITERAL-" : "LITERAL+");
  caps.push(
    "ID", // RFC 2971
    "ENABLE", // RFC 5161
    "IDLE", // RFC 2177
    "NAMESPACE", // RFC 2342
    "UNSELECT", // RFC 3691
    "UIDPLUS", // RFC 4315
    "MOVE", // RFC 6851
    "CHILDREN", // RFC 3348
    "SPECIAL-USE", // RFC 6154
    "LIST-EXTENDED", // RFC 5258
    "LIST-STATUS", // RFC 5819
    "STATUS=SIZE", // RFC 8438
    "BINARY", // RFC 3516
    "ESEARCH", // RFC 4731
    "SEARCHRES", // RFC 5182
    "CONDSTORE", // RFC 7162 §3.1
    "QRESYNC", // RFC 7162 §3.2
    "SORT", // RFC 5256 §3
    "SORT=DISPLAY", // RFC 5957
    "THREAD=ORDEREDSUBJECT", // RFC 5256 §4
    "THREAD=REFERENCES", // RFC 5256 §4
    "QUOTA", // RFC 9208
    "QUOTA=RES-STORAGE", // RFC 9208 §5.1
    "MULTIAPPEND", // RFC 3502
    "UTF8=ACCEPT", // RFC 6855
    "CREATE-SPECIAL-USE", // RFC 6154 §3
    `APPENDLIMIT=${input.maxMessageBytes}`, // RFC 7889
  );
  // RFC 4978 §3: offered once logged in, until it is active.
  if (input.state !== "not-authenticated" && !input.compressed) caps.push("COMPRESS=DEFLATE");
  return caps;
}

/** RFC 9051 §6.1.1: CAPABILITY. */
export const CAPABILITY = noArgs((ctx) => {
  ctx.send(untagged(`CAPABILITY ${ctx.capabilities().join(" ")}`));
  return Promise.resolve();
});
