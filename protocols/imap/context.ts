/**
 * What a command handler sees of its session, and the one handler signature every command
 * in `commands/` implements.
 *
 * @module
 */
import type { Account, MailboxChange } from "../../storage/mod.ts";
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import type { ArgReader } from "./parser.ts";
import type { Chunk } from "./response.ts";
import type { SelectedMailbox } from "./selected.ts";
import { log } from "../../lib/log.ts";
import { Code } from "./codes.ts";
import { type ImapError, no } from "./errors.ts";

/** RFC 9051 §3: the connection states. */
export type SessionState = "not-authenticated" | "authenticated" | "selected" | "logout";

/** The command being run. */
export interface CommandInfo {
  tag: string;
  /** Upper case; "UID FETCH" etc. for UID commands. */
  verb: string;
  /** True for the UID variants (RFC 9051 §6.4.9). */
  uid: boolean;
}

/** How a command ended successfully: `tag OK [code] text`. */
export interface Completion {
  code?: string;
  text?: string;
  /** Runs after the tagged OK has been written (STARTTLS starts the handshake here). */
  after?: () => Promise<void>;
}

/** The session as a handler sees it. */
export interface SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  /** Short id of this connection, for logs. */
  readonly id: string;
  readonly state: SessionState;
  /** The logged-in account (set in authenticated and selected states). */
  readonly account: Account | null;
  /** The selected mailbox (selected state only). */
  readonly selected: SelectedMailbox | null;
  /** IMAP4rev2 was ENABLEd (RFC 9051 §6.3.1): UTF-8 names, no \Recent, ESEARCH replies. */
  readonly rev2: boolean;
  /**
   * UTF-8 in mailbox names and quoted strings: IMAP4rev2 or ENABLE UTF8=ACCEPT (RFC 6855
   * §3); otherwise modified UTF-7 names and literals for non-ASCII text.
   */
  readonly utf8: boolean;
  /** Extensions the client ENABLEd. */
  readonly enabled: ReadonlySet<string>;

  /** Queues untagged or continuation output; sent at the end of the command at the latest. */
  send(chunk: Chunk): void;
  /** Queues output and writes it out when much is pending (FETCH of large bodies). */
  write(chunk: Chunk): Promise<void>;
  /** Writes all queued output now. */
  flush(): Promise<void>;
  /** Flushes, then reads one more line from the client (SASL responses, IDLE's DONE). */
  readLine(maxLen: number): Promise<string>;

  /** The capability list for the current state and transport. */
  capabilities(): string[];
  /** True when passwords may be sent on this connection (TLS, or loopback if allowed). */
  plaintextAuthAllowed(): boolean;
  /**
   * not-authenticated -> authenticated; NO [LIMIT] when the account already has
   * `limits.max_imap_connections_per_user` sessions.
   */
  login(account: Account): void;
  /** -> selected; any previous selection is dropped first. */
  select(view: SelectedMailbox): void;
  /** selected -> authenticated. */
  deselect(): void;
  /** -> logout: the session ends after this command's tagged reply. */
  logout(): void;
  /** Records an ENABLEd extension. */
  enable(extension: string): void;
  /** Upgrades the connection to TLS (STARTTLS). */
  startTls(): Promise<void>;
  /** Reports pending changes of the selected mailbox (RFC 9051 §7.5). */
  syncSelected(allowExpunge: boolean): Promise<void>;
  /** Calls `cb` after every store change (IDLE); returns the unsubscribe function. */
  onChange(cb: (change: MailboxChange) => void): () => void;
}

/** Every command: a pure argument parser and an async runner. */
export interface CommandHandler<A> {
  /**
   * Parses the arguments; the reader stands right after the verb (each argument starts with
   * its own SP). No I/O. Throws ParseError (-> BAD). The session checks the end of input.
   */
  parse(r: ArgReader): A;
  /** Does the work; throws ImapError for NO/BAD; returns the OK text. */
  run(ctx: SessionContext, args: A, cmd: CommandInfo): Promise<Completion | void>;
}

/** Defines a handler with its argument type inferred. */
export function command<A>(h: CommandHandler<A>): CommandHandler<A> {
  return h;
}

/** A handler without arguments. */
export function noArgs(
  run: (ctx: SessionContext, cmd: CommandInfo) => Promise<Completion | void>,
): CommandHandler<null> {
  return { parse: () => null, run: (ctx, _a, cmd) => run(ctx, cmd) };
}

/**
 * A command asked for more work than one command may do: logged (every refusal is), and
 * answered `NO [LIMIT]` (RFC 9051 §7.1, RFC 5530 §3). `what` names the command and bound.
 */
export function overLimit(ctx: SessionContext, what: string): ImapError {
  log.info("imap", `refused: ${what}`, {
    ip: ctx.conn.remoteAddress,
    user: ctx.account?.email ?? "",
  });
  return no(`Too much work for one command (${what})`, Code.LIMIT);
}
