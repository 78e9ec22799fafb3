/**
 * What a command handler sees of its session, and the one handler signature.
 *
 * @module
 */
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import type { Account } from "../../storage/mod.ts";
import type { Maildrop } from "./maildrop.ts";
import type { Pop3Command } from "./parser.ts";
import type { Pop3State } from "./states.ts";

/** The session as handlers use it. */
export interface SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  /** Short id of this connection, for logs. */
  readonly id: string;
  readonly state: Pop3State;
  /** RFC 1939 §7: the name given by USER, waiting for PASS. */
  pendingUser: string | null;
  /** The logged-in account (TRANSACTION and UPDATE). */
  readonly account: Account | null;
  /** The open maildrop (TRANSACTION and UPDATE). */
  readonly maildrop: Maildrop | null;
  /** True when USER/PASS and AUTH are allowed on this connection now. */
  readonly loginAllowed: boolean;
  /** Queues reply bytes; the session flushes them in order (batched under pipelining). */
  send(data: string | Uint8Array): void;
  /** Writes everything queued. */
  flush(): Promise<void>;
  /** Flushes, then reads one client line of a SASL exchange (RFC 5034 §4), as text. */
  readSaslLine(maxLen: number): Promise<string>;
  /**
   * Locks and opens the account's maildrop and enters TRANSACTION, replying +OK; throws a
   * Pop3Error ([IN-USE], [SYS/TEMP]) and stays in AUTHORIZATION when it cannot.
   */
  login(account: Account): Promise<void>;
  /** RFC 1939 §6: QUIT in TRANSACTION enters UPDATE. */
  enterUpdate(): void;
  /** Ends the session after the current command's replies are sent. */
  end(): void;
}

/** Every command handler has this shape; it replies through `ctx.send` or throws Pop3Error. */
export type CommandHandler = (ctx: SessionContext, cmd: Pop3Command) => void | Promise<void>;
