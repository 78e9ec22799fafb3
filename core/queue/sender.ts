/**
 * What the queue needs from an outbound SMTP client, and nothing more. The scheduler
 * (runner.ts) and the connection pool speak only these types; the composition root (app/)
 * injects the implementation (protocols/smtp/client/), so core/ never imports a protocol.
 *
 * Contract: `open` and `send` throw DeliveryError for a failing reply or a local refusal
 * that concerns every recipient, NetworkError for anything on the wire; nothing else.
 *
 * @module
 */
import type { FailureInfo } from "./failure.ts";

/** RFC 5321 §4.5.3.2 client timeouts, ms. */
export interface Timeouts {
  connect: number;
  greeting: number;
  command: number;
  dataInit: number;
  dataBlock: number;
  dataEnd: number;
}

/** What opportunistic STARTTLS achieved with one host. */
export interface TlsResult {
  protocol: string;
  cipher: string;
  /** The certificate chain verified against the system CAs and matched the host name. */
  verified: boolean;
  /** Why it did not verify (OpenSSL/rustls reason), when it did not. */
  verifyError?: string;
}

/** One recipient of a transaction with its RFC 3461 parameters. */
export interface TxRecipient {
  address: string;
  notify?: string[];
  orcpt?: string;
}

/** One message to send in one transaction. */
export interface Transaction {
  sender: string;
  recipients: TxRecipient[];
  body: Uint8Array;
  /** RFC 3461 RET / ENVID, passed on when the server offers DSN. */
  ret?: string | null;
  envid?: string | null;
  /** The message or envelope needs SMTPUTF8 (RFC 6531). */
  smtputf8?: boolean;
  /** RFC 8689: MAIL FROM carries REQUIRETLS (the session was checked to offer it). */
  requireTls?: boolean;
}

/**
 * What one transaction did for one recipient: delivered (failure null) or why not. A
 * recipient the server never answered for is absent.
 */
export interface RecipientOutcome {
  address: string;
  failure: FailureInfo | null;
}

/** How to open a connection. */
export interface SenderOptions {
  /** Our name in EHLO. */
  helo: string;
  timeouts?: Partial<Timeouts>;
  /** Try STARTTLS when offered (default true). */
  starttls?: boolean;
  /**
   * PEM roots `TlsResult.verified` is judged against (default: the bundled roots). The
   * system roots plus `[delivery] tls_ca_file` (core/outbound_security/tls_policy.ts).
   */
  ca?: string[];
}

/** One open connection to one mail server; may carry several transactions. */
export interface SmtpSession {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  /** What STARTTLS gave, or null for a plaintext session. */
  readonly tls: TlsResult | null;
  /** The certificates the server presented (DER, leaf first), for DANE (RFC 7672). */
  readonly peerChain?: Uint8Array[];
  /** EHLO keywords (upper case) -> parameters, as last announced. */
  readonly extensions?: ReadonlyMap<string, string>;
  /** Usable for another transaction. */
  readonly usable: boolean;
  send(tx: Transaction): Promise<RecipientOutcome[]>;
  /** QUIT, then close; never throws. */
  quit(): Promise<void>;
  /** Closes without QUIT. */
  close(): void;
}

/** Opens connections to mail servers (greeting, EHLO, STARTTLS done). */
export interface SmtpSender {
  open(host: string, ip: string, port: number, opts: SenderOptions): Promise<SmtpSession>;
}
