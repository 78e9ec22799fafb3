/**
 * One POP3 session: the read-parse-check-dispatch loop, reply batching, and the one place
 * where Pop3Errors become `-ERR` lines.
 *
 * Invariants:
 * - Replies go out in command order; they are flushed when no further input is waiting
 *   (RFC 2449 §6.6 PIPELINING) or when the batch grows large.
 * - The maildrop lock is held from a successful login until the session ends, however it
 *   ends; storage is changed only by QUIT in TRANSACTION (the UPDATE state).
 * - Every read is bounded in length and time (limits.pop3_timeout, RFC 1939 §3 autologout).
 *
 * @module
 */
import { type Connection, LineTooLongError } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import {
  BadCommands,
  commandFailure,
  endReason,
  plaintextAuthAllowed,
  SessionOutput,
} from "../../core/session/mod.ts";
import { log, newSessionId } from "../../lib/log.ts";
import type { Account } from "../../storage/mod.ts";
import { COMMANDS } from "./commands/mod.ts";
import type { SessionContext } from "./context.ts";
import { Pop3Error } from "./errors.ts";
import { Maildrop } from "./maildrop.ts";
import { MAX_COMMAND_LINE, parseCommand } from "./parser.ts";
import { err, ok, RESP } from "./replies.ts";
import { allowedIn, type Pop3State } from "./states.ts";

/** Queued output above this is written even while more pipelined input waits. */
const FLUSH_AT = 64 * 1024;

const isPop3Error = (e: unknown): e is Pop3Error => e instanceof Pop3Error;

/** A POP3 session on one connection. */
export class Pop3Session implements SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly id = newSessionId("pop3");
  pendingUser: string | null = null;
  #state: Pop3State = "AUTHORIZATION";
  #account: Account | null = null;
  #maildrop: Maildrop | null = null;
  #release: (() => Promise<void>) | null = null;
  readonly #out: SessionOutput;
  readonly #badCommands: BadCommands;
  #ending = false;

  constructor(deps: ServerDeps, conn: Connection) {
    this.deps = deps;
    this.conn = conn;
    this.#out = new SessionOutput(conn, FLUSH_AT);
    this.#badCommands = new BadCommands(deps.config.limits.maxBadCommands);
    // Writes have the same deadline as reads: a client that stops reading must not hold the
    // session, and its maildrop lock, forever.
    conn.writeTimeoutMs = this.#timeoutMs;
  }

  get state(): Pop3State {
    return this.#state;
  }

  get account(): Account | null {
    return this.#account;
  }

  get maildrop(): Maildrop | null {
    return this.#maildrop;
  }

  get loginAllowed(): boolean {
    return plaintextAuthAllowed(this.conn, this.deps.config);
  }

  get #timeoutMs(): number {
    return this.deps.config.limits.pop3TimeoutMs;
  }

  send(data: string | Uint8Array): void {
    this.#out.send(data);
  }

  flush(): Promise<void> {
    return this.#out.flush();
  }

  /** Releases the maildrop lock (idempotent). */
  #unlock(): Promise<void> {
    const p = this.#release?.() ?? Promise.resolve();
    this.#release = null;
    return p;
  }

  async readSaslLine(maxLen: number): Promise<string> {
    await this.flush();
    try {
      return await this.conn.readLineText(maxLen, this.#timeoutMs);
    } catch (e) {
      if (e instanceof LineTooLongError) {
        throw new Pop3Error("SASL response too long", { bad: true });
      }
      throw e;
    }
  }

  async login(account: Account): Promise<void> {
    // RFC 1939 §4 / RFC 2449 §8.1.2: one session per maildrop; the second gets [IN-USE]
    // and stays in AUTHORIZATION.
    let release;
    try {
      release = await this.deps.maildropLocks.tryAcquire(account.id);
    } catch (e) {
      log.error("pop3", `cannot lock the maildrop: ${(e as Error).message}`, {
        account: account.email,
      });
      throw new Pop3Error("Cannot open the maildrop, try again later", { code: RESP.sysTemp });
    }
    if (!release) {
      throw new Pop3Error("Maildrop is locked by another POP3 session", { code: RESP.inUse });
    }
    try {
      const box = await this.deps.store.getMailbox(account.id, "INBOX");
      if (!box) throw new Pop3Error("No INBOX for this account", { code: RESP.sysPerm });
      const messages = await this.deps.store.listMessages(box.id);
      this.#maildrop = new Maildrop(box, messages);
    } catch (e) {
      void release();
      if (e instanceof Pop3Error) throw e;
      log.error("pop3", `cannot open maildrop: ${(e as Error).message}`, {
        account: account.email,
      });
      throw new Pop3Error("Cannot open the maildrop, try again later", { code: RESP.sysTemp });
    }
    this.#release = release;
    this.#account = account;
    this.#state = "TRANSACTION";
    this.pendingUser = null;
    const md = this.#maildrop;
    log.info("pop3", "login", {
      session: this.id,
      account: account.email,
      ip: this.conn.remoteAddress,
    });
    this.send(ok(`Logged in, ${md.count} messages (${md.size} octets)`));
  }

  enterUpdate(): void {
    this.#state = "UPDATE";
  }

  end(): void {
    this.#ending = true;
  }

  /** Runs the session until QUIT, a drop, a timeout or too many bad commands. */
  async run(): Promise<void> {
    try {
      // RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered.
      this.send(ok(`${this.deps.config.hostname} POP3 server ready`));
      while (!this.#ending) {
        if (this.#out.due) await this.flush();
        let line: Uint8Array;
        try {
          line = await this.conn.readLine(MAX_COMMAND_LINE, this.#timeoutMs);
        } catch (e) {
          if (!(e instanceof LineTooLongError)) throw e;
          this.#reject(new Pop3Error("Line too long", { bad: true }));
          continue;
        }
        await this.#execute(line);
      }
      // The session is over (UPDATE done, if any): unlock before the last reply goes out,
      // so a client that reconnects as soon as it reads "+OK" is not refused [IN-USE].
      await this.#unlock();
      await this.flush();
    } catch (e) {
      await this.#end(e);
    } finally {
      this.#unlock();
    }
  }

  /** The goodbye for the error that ended the session. */
  async #end(e: unknown): Promise<void> {
    const reason = endReason(e);
    if ((reason === "too_slow" || reason === "idle") && !this.conn.closed) {
      // RFC 1939 §3: the autologout timer expired (or a command line was sent too
      // slowly); close without entering UPDATE, so nothing is deleted.
      this.#unlock();
      if (reason === "too_slow") {
        log.info("pop3", "closing: client too slow", { ip: this.conn.remoteAddress });
      }
      this.send(err(
        reason === "too_slow" ? "Command sent too slowly" : "Autologout: idle for too long",
      ));
    } else if (reason === "shutdown") {
      // Not a QUIT: no UPDATE state, messages marked deleted stay (RFC 1939 §6).
      // RFC 3206 §4 SYS/TEMP: the client may try again later.
      this.#unlock();
      this.send(err("Server shutting down", RESP.sysTemp));
    } else {
      if (reason === "error") log.debug("pop3", `session ended: ${(e as Error).message}`);
      return;
    }
    await this.flush().catch(() => {});
  }

  /** Parse, check the state table, dispatch; Pop3Errors become -ERR replies. */
  async #execute(line: Uint8Array): Promise<void> {
    try {
      const cmd = parseCommand(line);
      const handler = COMMANDS.get(cmd.verb);
      if (!handler) throw new Pop3Error("Unknown command", { bad: true });
      if (!allowedIn(this.#state, cmd.verb)) {
        throw new Pop3Error(`${cmd.verb} is not valid in the ${this.#state} state`, { bad: true });
      }
      await handler(this, cmd);
    } catch (e) {
      this.#reject(commandFailure(e, this.conn, isPop3Error, this.#internalError));
    }
  }

  /** A storage failure or a bug: one -ERR, and the session goes on. */
  readonly #internalError = (e: Error): Pop3Error => {
    log.error("pop3", `command failed: ${e.message}`, { ip: this.conn.remoteAddress });
    return new Pop3Error("Internal error, try again later", { code: RESP.sysTemp });
  };

  /** The one place a Pop3Error turns into a wire reply. */
  #reject(e: Pop3Error): void {
    let text = e.message;
    if (e.bad && this.#badCommands.count()) {
      text += "; too many bad commands, closing connection";
      this.#ending = true;
    }
    if (e.close) this.#ending = true;
    this.send(err(text, e.code));
  }
}
