/**
 * What every protocol session (protocols/smtp, imap, pop3) does alike, so each protocol keeps
 * only its wire syntax: the reply queue (`SessionOutput`), the bad-command count and the
 * classification of thrown errors (`BadCommands`, `commandFailure`, `endReason`), the SASL
 * exchange loop (`runSasl`), when passwords may be sent (`plaintextAuthAllowed`) and the
 * STARTTLS / STLS handshake (`startTlsHandshake`).
 *
 * May import: core (connection, auth, config, deps), lib, storage types. Knows no protocol:
 * the protocol passes in its reply wording as small callbacks.
 *
 * @module
 */
export { SessionOutput } from "./output.ts";
export {
  BadCommands,
  commandFailure,
  type EndReason,
  endReason,
  endsConnection,
} from "./errors.ts";
export {
  MAX_SASL_LINE,
  MAX_SASL_ROUNDS,
  runSasl,
  type SaslFailure,
  type SaslOutcome,
  type SaslWire,
} from "./sasl.ts";
export { plaintextAuthAllowed, startTlsHandshake } from "./security.ts";
