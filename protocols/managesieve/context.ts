/**
 * What a ManageSieve command handler sees of its session, and the handler signature.
 *
 * @module
 */
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import type { Account } from "../../storage/mod.ts";
import type { ScriptKv } from "../../plugins/builtin/sieve/scripts.ts";

/** The session as handlers use it. */
export interface SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly id: string;
  /** The logged-in account, or null before AUTHENTICATE. */
  readonly account: Account | null;
  /** True when AUTHENTICATE may be used on this connection now. */
  readonly loginAllowed: boolean;
  /** The sieve plugin's script store. */
  readonly scripts: ScriptKv;
  send(data: string | Uint8Array): void;
  flush(): Promise<void>;
  /** Flushes, then reads one client string of a SASL exchange (RFC 5804 §2.1). */
  readSaslString(maxLen: number): Promise<string>;
  login(account: Account): void;
  /** RFC 5804 §2.14.1: back to the non-authenticated state. */
  unauthenticate(): void;
  /** Sends the capability lines (greeting, CAPABILITY, after STARTTLS). */
  sendCapabilities(): void;
  /** Ends the session after the current replies are sent. */
  end(): void;
}

/** Every command handler; it replies through `ctx.send` or throws ManageSieveError. */
export type CommandHandler = (ctx: SessionContext, args: string[]) => void | Promise<void>;
