/**
 * What a command handler sees of its session: the types shared by `session.ts`,
 * `state.ts` and `commands/`. (Kept apart so commands never import the session loop.)
 *
 * @module
 */
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import type { LocalRecipient } from "../../core/router.ts";
import type { Account } from "../../storage/mod.ts";
import type { Mailbox } from "./parser.ts";
import type { MailParams, RcptParams } from "./params.ts";
import type { Reply } from "./replies.ts";

/** Which listener a session runs on. */
export type SmtpRole = "mx" | "submission" | "submissions";

/**
 * Where a session is (RFC 5321 §4.1.4 ordering):
 * - `init`: no EHLO/HELO yet (also right after STARTTLS, RFC 3207 §4.2)
 * - `idle`: greeted, no mail transaction
 * - `mail`: MAIL accepted, no recipient yet
 * - `rcpt`: at least one RCPT accepted
 * - `bdat`: at least one non-LAST BDAT chunk received (RFC 3030 §2)
 */
export type Phase = "init" | "idle" | "mail" | "rcpt" | "bdat";

/** One accepted RCPT with where the router sends it. */
export interface AcceptedRecipient {
  /** The address as the client gave it (canonical form). */
  address: string;
  local: LocalRecipient[];
  remote: string[];
  dsn: RcptParams;
}

/** The mail transaction in progress. */
export interface Envelope {
  /** Reverse-path; null is the null sender "<>". */
  sender: Mailbox | null;
  params: MailParams;
  recipients: AcceptedRecipient[];
  /** BDAT chunks received so far, and their total size. */
  chunks: Uint8Array[];
  chunkBytes: number;
  /** How many of the last `chunks` have not been folded together yet (see bdat). */
  looseChunks?: number;
}

/** The session as command handlers use it. */
export interface SmtpSession {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly role: SmtpRole;
  /** Short id of this connection, for logs. */
  readonly id: string;
  phase: Phase;
  /** The EHLO/HELO name, once given. */
  helo: string | null;
  /** True after EHLO (false after HELO). */
  esmtp: boolean;
  /** The authenticated account (RFC 4954), or null. */
  account: Account | null;
  envelope: Envelope | null;
  /**
   * Queues a reply; replies are flushed together when the client has nothing pipelined.
   * A reply >= 400 is logged as a refusal, with what `about` named.
   */
  reply(r: Reply): void;
  /**
   * Names what the current command concerns (`address`, `login`, a message `id` ...) for
   * the log line of its refusal; forgotten when the next command starts. Never a secret.
   */
  about(fields: Record<string, string>): void;
  /** Sends queued replies now (before waiting for the client: 354, 334, STARTTLS). */
  flush(): Promise<void>;
  /** Ends the session once the current command's reply is sent. */
  quit(): void;
  /** Drops the transaction (RSET, EHLO, end of message): back to `idle` (or `init`). */
  resetTransaction(): void;
  /** Everything about the client forgotten: RFC 3207 §4.2 after STARTTLS. */
  resetAll(): void;
}

/** Every command handler has this shape; `arg` is the text after the verb. */
export type CommandHandler = (s: SmtpSession, arg: string) => Promise<void>;

/** One row of the verb -> handler table. */
export interface CommandSpec {
  handler: CommandHandler;
  /** Listeners that offer the command; absent = all. Elsewhere: 502 5.5.1. */
  roles?: readonly SmtpRole[];
  /** On listeners that require authentication, refused with 530 until AUTH succeeded. */
  needsAuth?: boolean;
  /**
   * Called when the command is refused before its handler runs (bad state, no auth), to
   * consume what the client sends along with it (a BDAT chunk, RFC 3030 §2).
   */
  drain?: CommandHandler;
}
