/**
 * One ManageSieve session (RFC 5804): greeting with capabilities, the read-dispatch loop and
 * the one place ManageSieveErrors become `NO` / `BYE` lines.
 *
 * Invariants:
 * - Every read is bounded in length and time: literals at most MAX_SASL_LINE octets before
 *   login and a script's quota (MAX_SCRIPT_BYTES) after (parser.ts).
 * - AUTHENTICATE only over TLS, or from loopback when `auth.allow_plaintext_loopback` is set
 *   (core/session/security.ts); SASL is offered in the capabilities only then.
 *
 * @module
 */
import type { Connection } from "../../core/connection.ts";
import type { ServerDeps } from "../../core/deps.ts";
import {
  BadCommands,
  commandFailure,
  endReason,
  MAX_SASL_LINE,
  plaintextAuthAllowed,
  SessionOutput,
} from "../../core/session/mod.ts";
import { log, newSessionId } from "../../lib/log.ts";
import { EXTENSIONS } from "../../plugins/builtin/sieve/compile.ts";
import { DEFAULT_LIMITS } from "../../plugins/builtin/sieve/eval.ts";
import { MAX_SCRIPT_BYTES, type ScriptKv } from "../../plugins/builtin/sieve/scripts.ts";
import { pluginNameFor, pluginStoreKv } from "../../plugins/engine/store_kv.ts";
import type { Account } from "../../storage/mod.ts";
import { AFTER_LOGIN, BEFORE_LOGIN } from "./commands.ts";
import type { SessionContext } from "./context.ts";
import { ManageSieveError } from "./errors.ts";
import { readCommand, sieveString } from "./parser.ts";
import { bye, no, ok } from "./replies.ts";

const FLUSH_AT = 64 * 1024;
/** Room for a script literal plus the name and command around it. */
const MAX_LITERALS_AFTER_LOGIN = MAX_SCRIPT_BYTES + 1024;
/** The SASL mechanisms offered (core/auth's, minus LOGIN, which RFC 5804 does not use). */
const MECHANISMS = "PLAIN SCRAM-SHA-256";

const isSieveError = (e: unknown): e is ManageSieveError => e instanceof ManageSieveError;

/** A ManageSieve session on one connection. */
export class ManageSieveSession implements SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly id = newSessionId("sieve");
  readonly scripts: ScriptKv;
  #account: Account | null = null;
  readonly #out: SessionOutput;
  readonly #badCommands: BadCommands;
  #ending = false;

  constructor(deps: ServerDeps, conn: Connection) {
    this.deps = deps;
    this.conn = conn;
    // The configured builtin:sieve's kv area: the keys the plugin reads at delivery.
    const plugin = pluginNameFor(deps.config.plugins, "builtin:sieve", "sieve");
    this.scripts = pluginStoreKv(deps.store, plugin);
    this.#out = new SessionOutput(conn, FLUSH_AT);
    this.#badCommands = new BadCommands(deps.config.limits.maxBadCommands);
    conn.writeTimeoutMs = this.#timeoutMs;
  }

  get account(): Account | null {
    return this.#account;
  }

  get loginAllowed(): boolean {
    return plaintextAuthAllowed(this.conn, this.deps.config);
  }

  /** ManageSieve has no timeout of its own; POP3's autologout is the closest match. */
  get #timeoutMs(): number {
    return this.deps.config.limits.pop3TimeoutMs;
  }

  send(data: string | Uint8Array): void {
    this.#out.send(data);
  }

  flush(): Promise<void> {
    return this.#out.flush();
  }

  async readSaslString(maxLen: number): Promise<string> {
    await this.flush();
    const cmd = await readCommand(this.conn, this.#timeoutMs, maxLen, true);
    return cmd.args[0] ?? "";
  }

  login(account: Account): void {
    this.#account = account;
    log.info("managesieve", "login", {
      session: this.id,
      account: account.email,
      ip: this.conn.remoteAddress,
    });
    this.send(ok("Logged in"));
  }

  unauthenticate(): void {
    log.info("managesieve", "unauthenticate", { session: this.id, account: this.#account?.email });
    this.#account = null;
  }

  /** RFC 5804 §1.7: the capability lines. */
  sendCapabilities(): void {
    const lines: [string, string?][] = [
      ["IMPLEMENTATION", "denomail"],
      ["SASL", this.loginAllowed ? MECHANISMS : ""],
      ["SIEVE", EXTENSIONS.join(" ")],
    ];
    if (!this.conn.isTls) lines.push(["STARTTLS"]);
    // RFC 5804 §1.7: the redirect limit a script meets; §2.14.1: UNAUTHENTICATE.
    lines.push(["MAXREDIRECTS", String(DEFAULT_LIMITS.redirects)], ["UNAUTHENTICATE"]);
    lines.push(["VERSION", "1.0"]);
    for (const [k, v] of lines) {
      this.send(`${sieveString(k)}${v === undefined ? "" : ` ${sieveString(v)}`}\r\n`);
    }
  }

  end(): void {
    this.#ending = true;
  }

  /** Runs the session until LOGOUT, a drop, a timeout or too many bad commands. */
  async run(): Promise<void> {
    try {
      this.sendCapabilities();
      this.send(ok(`${this.deps.config.hostname} ManageSieve ready`));
      while (!this.#ending) {
        if (this.#out.due) await this.flush();
        await this.#execute();
      }
      await this.flush();
    } catch (e) {
      const reason = endReason(e);
      if (reason === "error") log.debug("managesieve", `session ended: ${(e as Error).message}`);
      if (reason === "closed" || this.conn.closed) return;
      // RFC 5804 §1.3: BYE before the server closes the connection.
      this.send(bye(reason === "shutdown" ? "Server shutting down" : "Timed out", "TRYLATER"));
      await this.flush().catch(() => {});
    }
  }

  async #execute(): Promise<void> {
    try {
      const limit = this.#account ? MAX_LITERALS_AFTER_LOGIN : MAX_SASL_LINE;
      const cmd = await readCommand(this.conn, this.#timeoutMs, limit);
      const handler = (this.#account ? AFTER_LOGIN : BEFORE_LOGIN).get(cmd.verb);
      if (!handler) {
        throw new ManageSieveError(
          this.#account || !AFTER_LOGIN.has(cmd.verb) ? "Unknown command" : "Authenticate first",
          { bad: true },
        );
      }
      await handler(this, cmd.args);
    } catch (e) {
      this.#reject(commandFailure(e, this.conn, isSieveError, this.#internalError));
    }
  }

  readonly #internalError = (e: Error): ManageSieveError => {
    if (e.name === "LineTooLongError") return new ManageSieveError("Line too long", { bad: true });
    log.error("managesieve", `command failed: ${e.message}`, { ip: this.conn.remoteAddress });
    return new ManageSieveError("Internal error, try again later", { code: "TRYLATER" });
  };

  #reject(e: ManageSieveError): void {
    let close = e.close;
    if (e.bad && this.#badCommands.count()) close = true;
    if (close) {
      this.#ending = true;
      this.send(bye(e.message, e.code));
    } else {
      this.send(no(e.message, e.code));
    }
  }
}
