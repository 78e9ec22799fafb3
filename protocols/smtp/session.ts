/**
 * One SMTP session: the read-parse-check-dispatch loop, reply batching under PIPELINING
 * (RFC 2920), and the one place where protocol errors become wire replies.
 *
 * Invariants:
 * - Every read is bounded in size and time (command lines MAX_COMMAND_LINE, the body by
 *   limits.max_message_bytes, timeouts from limits.smtp_*_timeout).
 * - Replies are queued and written when the client has nothing more pipelined, and always
 *   before the session waits for something the client sends only after a reply (354, 334,
 *   STARTTLS).
 * - A handler either replies or throws SmtpError; nothing else reaches the client.
 * - Every reply >= 400 passes through `reply()`, which logs it at info with the session id,
 *   the client address, the verb and what the command concerned (CONTRACT, Logging).
 *
 * @module
 */
import { LineTooLongError } from "../../core/connection.ts";
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import { BadCommands, commandFailure, endReason, SessionOutput } from "../../core/session/mod.ts";
import { clientText, log } from "../../lib/log.ts";
import type { Account } from "../../storage/mod.ts";
import { COMMANDS, FORBIDDEN_VERBS } from "./commands/mod.ts";
import type { Envelope, Phase, SmtpRole, SmtpSession } from "./context.ts";
import { decodeCommand, MAX_COMMAND_LINE, parseCommandLine } from "./parser.ts";
import { authPermitted, requiresAuth } from "./policy.ts";
import {
  AUTH_REQUIRED,
  formatReply,
  LINE_TOO_LONG,
  NOT_IMPLEMENTED,
  type Reply,
  reply,
  SHUTTING_DOWN,
  SmtpError,
  TIMEOUT,
  TOO_MANY_ERRORS,
  UNKNOWN_COMMAND,
  withText,
} from "./replies.ts";
import { checkSequence } from "./state.ts";
import { smtpConnectHook } from "./hooks.ts";

/** Verbs whose argument may be logged with their refusal (addresses, names, sizes). */
const ARG_IS_SUBJECT: ReadonlySet<string> = new Set([
  "EHLO",
  "HELO",
  "MAIL",
  "RCPT",
  "VRFY",
  "BDAT",
]);

/** Above this many queued reply bytes, write even while the client is still pipelining. */
const MAX_QUEUED_REPLIES = 16 * 1024;

/** RFC 5321 §4.2.3: 451, local error in processing; the client tries again later. */
const INTERNAL_ERROR = reply(451, "4.3.0", "Internal error, try again later");

const isSmtpError = (e: unknown): e is SmtpError => e instanceof SmtpError;

// Process-wide on purpose: it only makes session ids unique in this process's log.
let sessionCounter = 0;

/** Runs one SMTP conversation on a connection. */
export class Session implements SmtpSession {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly role: SmtpRole;
  readonly id: string;
  phase: Phase = "init";
  helo: string | null = null;
  esmtp = false;
  account: Account | null = null;
  envelope: Envelope | null = null;
  readonly #out: SessionOutput;
  readonly #badCommands: BadCommands;
  #quit = false;
  /** The command being executed, and what it concerns, for the refusal log line. */
  #verb = "";
  #about: Record<string, string> = Object.create(null);

  constructor(deps: ServerDeps, conn: Connection, role: SmtpRole) {
    this.deps = deps;
    this.conn = conn;
    this.role = role;
    this.id = `${role}-${(++sessionCounter).toString(36)}`;
    this.#out = new SessionOutput(conn, MAX_QUEUED_REPLIES);
    this.#badCommands = new BadCommands(deps.config.limits.maxBadCommands);
  }

  reply(r: Reply): void {
    if (r.code >= 400) this.#logRefusal(r);
    this.#out.send(formatReply(r));
  }

  about(fields: Record<string, string>): void {
    Object.assign(this.#about, fields);
  }

  /** The one place refusals are logged: every 4xx/5xx reply goes through `reply()`. */
  #logRefusal(r: Reply): void {
    // The raw argument only when the handler did not get as far as naming the address.
    const { arg, ...about } = this.#about;
    log.info("smtp", "refused", {
      session: this.id,
      ip: this.conn.remoteAddress,
      ...(this.#verb ? { cmd: this.#verb } : {}),
      ...(arg !== undefined && about.address === undefined ? { arg } : {}),
      ...about,
      ...(this.account ? { user: this.account.email } : {}),
      reply: r.enhanced ? `${r.code} ${r.enhanced}` : String(r.code),
      text: r.lines.join(" "),
    });
  }

  flush(): Promise<void> {
    return this.#out.flush();
  }

  quit(): void {
    this.#quit = true;
  }

  resetTransaction(): void {
    this.envelope = null;
    if (this.phase !== "init") this.phase = "idle";
  }

  resetAll(): void {
    this.envelope = null;
    this.phase = "init";
    this.helo = null;
    this.esmtp = false;
    this.account = null;
  }

  /** The whole session: greeting, then commands until QUIT, an error close, or EOF. */
  async run(): Promise<void> {
    const limits = this.deps.config.limits;
    log.debug("smtp", "connect", { session: this.id, ip: this.conn.remoteAddress });
    try {
      // Plugins (connect hook) may refuse the client instead of greeting it; RFC 5321 §3.1
      // allows a 554 in place of the 220, and we then close.
      this.#verb = "CONNECT";
      const refused = await smtpConnectHook(this);
      if (refused) {
        this.reply(refused);
        await this.flush();
        return;
      }
      // RFC 5321 §4.3.1 / §4.2: greeting without an enhanced code (RFC 2034 §3).
      this.reply(reply(220, "", `${this.deps.config.hostname} ESMTP denomail`));
      await this.flush();
      while (!this.#quit) {
        let line: Uint8Array | null = null;
        try {
          line = await this.conn.readLine(MAX_COMMAND_LINE, limits.smtpCommandTimeoutMs);
        } catch (e) {
          // RFC 5321 §4.5.3.1.4: a command line too long -> 500 5.5.2.
          if (e instanceof LineTooLongError) this.#fail(new SmtpError(LINE_TOO_LONG));
          else throw e;
        }
        if (line !== null) await this.#execute(line);
        if (this.#quit || this.#out.due) await this.flush();
      }
    } catch (e) {
      await this.#end(e);
    }
    log.debug("smtp", "disconnect", { session: this.id });
  }

  /** The goodbye for the error that ended the session. */
  async #end(e: unknown): Promise<void> {
    const reason = endReason(e);
    if (reason === "too_slow") {
      log.info("smtp", "closing: client too slow", {
        session: this.id,
        ip: this.conn.remoteAddress,
      });
    }
    switch (reason) {
      case "too_slow":
      case "idle":
        // RFC 5321 §4.5.3.2: the server may close after its timeout, with 421 (also when a
        // line or DATA was too slow).
        this.reply(TIMEOUT);
        break;
      case "shutdown":
        // RFC 5321 §3.8: a server that must shut down answers 421 and closes; a DATA cut
        // short here was never acknowledged, so the client keeps the message.
        this.reply(SHUTTING_DOWN);
        break;
      case "closed":
        return;
      case "error":
        log.debug("smtp", "session ended", { session: this.id, error: (e as Error).message });
        return;
    }
    await this.flush().catch(() => {});
  }

  /** Parses, checks and dispatches one command line; every outcome becomes a reply. */
  async #execute(line: Uint8Array): Promise<void> {
    this.#verb = "";
    this.#about = Object.create(null);
    try {
      const { verb, arg } = parseCommandLine(decodeCommand(line));
      this.#verb = verb;
      // What the command concerns, until its handler names it more precisely. Only verbs
      // whose argument carries no secret (never AUTH, never an unknown verb).
      if (ARG_IS_SUBJECT.has(verb) && arg !== "") this.#about.arg = clientText(arg);
      if (FORBIDDEN_VERBS.has(verb)) {
        throw new SmtpError(withText(UNKNOWN_COMMAND, "This is an SMTP server"), { close: true });
      }
      const spec = COMMANDS[verb];
      if (!spec) throw new SmtpError(UNKNOWN_COMMAND);
      if (spec.roles && !spec.roles.includes(this.role)) throw new SmtpError(NOT_IMPLEMENTED);
      // State legality is checked here, once, from the table in state.ts.
      let refusal = checkSequence(this.phase, verb);
      // RFC 6409 §4.3 / RFC 8314: submission listeners take MAIL only after AUTH.
      if (!refusal && spec.needsAuth && requiresAuth(this.role) && !this.account) {
        refusal = authPermitted(this)
          ? AUTH_REQUIRED
          : withText(AUTH_REQUIRED, "Must issue a STARTTLS command first");
      }
      if (refusal) {
        await spec.drain?.(this, arg);
        throw new SmtpError(refusal);
      }
      await spec.handler(this, arg);
    } catch (e) {
      this.#fail(commandFailure(e, this.conn, isSmtpError, this.#internalError));
    }
  }

  /** What a thrown error other than SmtpError says to the client. */
  readonly #internalError = (e: Error): SmtpError => {
    // RFC 5321 §4.5.3.1.4: a line too long -> 500 5.5.2.
    if (e instanceof LineTooLongError) return new SmtpError(LINE_TOO_LONG);
    // A bug or a backend failure: say "try again later", keep the process and session.
    log.error("smtp", "command failed", { session: this.id, error: e.message });
    this.resetTransaction();
    return new SmtpError(INTERNAL_ERROR);
  };

  /** Sends an error reply; too many bad commands end the session with 421. */
  #fail(e: SmtpError): void {
    this.reply(e.reply);
    if (e.close) {
      this.#quit = true;
      return;
    }
    if (e.bad && this.#badCommands.count()) {
      this.reply(TOO_MANY_ERRORS);
      this.#quit = true;
    }
  }
}
