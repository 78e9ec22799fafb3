/**
 * How a delivery attempt fails, in the queue's words: the one error type delivery uses
 * (a failing remote reply or a local refusal) and the network error. No I/O, no SMTP parsing:
 * the SMTP client (protocols/smtp/client/) turns replies into these.
 *
 * @module
 */

/** Where a failure was seen, for the DSN (RFC 3464 §2.3.6 Remote-MTA / Diagnostic-Code). */
export interface FailureInfo {
  permanent: boolean;
  /** RFC 3463 status for the DSN, e.g. "5.1.1". */
  status: string;
  /** One line, e.g. "550 5.1.1 No such user" (the remote reply, or one we made up). */
  diagnostic: string;
  /** The remote host that gave the reply, when there was one. */
  remoteMta?: string;
}

/** A delivery failure for every recipient of one attempt (DNS, connect, MAIL, DATA, ...). */
export class DeliveryError extends Error implements FailureInfo {
  readonly permanent: boolean;
  readonly status: string;
  readonly diagnostic: string;
  readonly remoteMta?: string;

  constructor(info: FailureInfo) {
    super(info.diagnostic);
    this.name = "DeliveryError";
    this.permanent = info.permanent;
    this.status = info.status;
    this.diagnostic = info.diagnostic;
    this.remoteMta = info.remoteMta;
  }
}

/** A network-level failure (connect, timeout, reset, a garbled reply): always temporary. */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}
