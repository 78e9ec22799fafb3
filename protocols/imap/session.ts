/**
 * One IMAP session (RFC 9051): reads commands (lines and literals), checks the state table,
 * dispatches to `commands/`, turns typed errors into tagged replies, and reports mailbox
 * changes where RFC 9051 §7.5 allows.
 *
 * Invariants:
 * - Memory per session is bounded: before login a whole command by MAX_PRELOGIN_COMMAND;
 *   after, lines by MAX_LINE, literals by the APPEND limit (APPEND) or MAX_SMALL_LITERAL
 *   (anything else), a whole command by MAX_COMMAND_BYTES (APPEND: max_message_bytes).
 * - A too-large literal is never buffered: a synchronizing one is refused before the client
 *   sends it, a non-synchronizing one is skipped with `skipBytes`.
 * - Output is queued and written at the end of each command (batched while the client has
 *   pipelined more input), before any read of a continuation, and whenever much is pending.
 * - The store's change listener only records into the selected view; I/O for updates happens
 *   in `syncSelected`, which never runs concurrently with itself.
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
  startTlsHandshake,
} from "../../core/session/mod.ts";
import { log, newSessionId } from "../../lib/log.ts";
import { type Account, type MailboxChange, StoreError } from "../../storage/mod.ts";
import { Code } from "./codes.ts";
import { COMMANDS } from "./commands/mod.ts";
import { capabilities } from "./commands/capability.ts";
import type { Completion, SessionContext, SessionState } from "./context.ts";
import { bad, ByeError, ImapError, no } from "./errors.ts";
import {
  ArgReader,
  type CommandInput,
  type LiteralAnnouncement,
  literalAnnouncement,
  peekTag,
  peekVerb,
} from "./parser.ts";
import { type Chunk, tagged, untagged } from "./response.ts";
import type { SelectedMailbox } from "./selected.ts";
import { allowedIn, NO_EXPUNGE_VERBS } from "./states.ts";

/** Longest command line (RFC 9051 §4: servers should accept at least 8000 octets). */
export const MAX_LINE = 64 * 1024;
/** Largest literal accepted outside APPEND (passwords, search strings, names). */
export const MAX_SMALL_LITERAL = 64 * 1024;
/** Largest command (lines and literals) outside APPEND once logged in. */
export const MAX_COMMAND_BYTES = 1024 * 1024;
/**
 * Largest command before login, lines and literals together (issue 13 item 5: nobody is
 * known yet). ID is the largest a client may send then: RFC 2971 §3.3 allows 30 field-value
 * pairs with values of up to 1024 octets, about 31 KiB (imaptest sends exactly that);
 * LOGIN, AUTHENTICATE's first line and STARTTLS need far less.
 */
export const MAX_PRELOGIN_COMMAND = 32 * 1024;
/** Lines (hence literals) one command may consist of. */
const MAX_COMMAND_LINES = 1000;
/** Output is written out once this much is queued. */
const FLUSH_AT = 64 * 1024;
/** Before login the autologout timer is short (RFC 9051 §5.4 only sets a minimum after). */
const PREAUTH_TIMEOUT_MS = 60_000;
/** RFC 7888 §4: the largest non-synchronizing literal of LITERAL- (advertised before login). */
const MAX_LITERAL_MINUS = 4096;
/** Stray empty lines tolerated per session before it counts as abuse. */
const MAX_EMPTY_LINES = 100;

const dec = new TextDecoder();

const isImapError = (e: unknown): e is ImapError => e instanceof ImapError;

/** A literal the session refused before reading it: reply and go on. */
class LiteralRefused extends Error {
  /** `close`: the rest of the command cannot be skipped; BYE after the tagged reply. */
  constructor(readonly tag: string, readonly failure: ImapError, readonly close = false) {
    super(failure.message);
  }
}

/** One connection's IMAP session. */
export class Session implements SessionContext {
  readonly deps: ServerDeps;
  readonly conn: Connection;
  readonly id = newSessionId("imap");
  #state: SessionState = "not-authenticated";
  #account: Account | null = null;
  #selected: SelectedMailbox | null = null;
  #enabled = new Set<string>();
  readonly #out: SessionOutput;
  readonly #badCommands: BadCommands;
  #watchers = new Set<(c: MailboxChange) => void>();
  #emptyLines = 0;
  /** Releases this session's count in the per-user limit (set at login). */
  #releaseUser: (() => void) | null = null;

  constructor(deps: ServerDeps, conn: Connection) {
    this.deps = deps;
    this.conn = conn;
    this.#out = new SessionOutput(conn, FLUSH_AT);
    this.#badCommands = new BadCommands(deps.config.limits.maxBadCommands);
  }

  /** The autologout timer for the current state (RFC 9051 §5.4). */
  get #timeoutMs(): number {
    const idle = this.deps.config.limits.imapIdleTimeoutMs;
    return this.#state === "not-authenticated" ? Math.min(idle, PREAUTH_TIMEOUT_MS) : idle;
  }

  // --- SessionContext ---

  get state(): SessionState {
    return this.#state;
  }
  get account(): Account | null {
    return this.#account;
  }
  get selected(): SelectedMailbox | null {
    return this.#selected;
  }
  get rev2(): boolean {
    return this.#enabled.has("IMAP4REV2");
  }
  get utf8(): boolean {
    return this.#enabled.has("IMAP4REV2") || this.#enabled.has("UTF8=ACCEPT");
  }
  get enabled(): ReadonlySet<string> {
    return this.#enabled;
  }

  send(chunk: Chunk): void {
    this.#out.send(chunk);
  }

  write(chunk: Chunk): Promise<void> {
    return this.#out.write(chunk);
  }

  flush(): Promise<void> {
    return this.#out.flush();
  }

  async readLine(maxLen: number): Promise<string> {
    await this.flush();
    try {
      return dec.decode(await this.conn.readLine(maxLen, this.#timeoutMs));
    } catch (e) {
      if (e instanceof LineTooLongError) throw bad("Line too long");
      throw e;
    }
  }

  capabilities(): string[] {
    return capabilities({
      state: this.#state,
      tls: this.conn.isTls,
      plaintextAuth: this.plaintextAuthAllowed(),
      maxMessageBytes: this.deps.config.limits.maxMessageBytes,
      compressed: this.conn.isCompressed,
    });
  }

  plaintextAuthAllowed(): boolean {
    return plaintextAuthAllowed(this.conn, this.deps.config);
  }

  login(account: Account): void {
    // Per-user connection limit: RFC 9051 §7.1 [LIMIT] when the account has too many.
    const release = this.deps.userSessions.claim(
      account.id,
      this.deps.config.limits.maxImapConnectionsPerUser,
    );
    if (!release) throw no("Too many connections for this user", Code.LIMIT);
    this.#releaseUser = release;
    this.#account = account;
    this.#state = "authenticated";
  }

  select(view: SelectedMailbox): void {
    this.#selected = view;
    this.#state = "selected";
  }

  deselect(): void {
    this.#selected = null;
    if (this.#state === "selected") this.#state = "authenticated";
  }

  logout(): void {
    this.#selected = null;
    this.#state = "logout";
  }

  enable(extension: string): void {
    const ext = extension.toUpperCase();
    this.#enabled.add(ext);
    // RFC 7162 §3.2.3: enabling QRESYNC implies enabling CONDSTORE.
    if (ext === "QRESYNC") this.#enabled.add("CONDSTORE");
  }

  async startTls(): Promise<void> {
    await this.flush();
    await startTlsHandshake(this.deps, this.conn, "imap");
  }

  async syncSelected(allowExpunge: boolean): Promise<void> {
    const view = this.#selected;
    if (!view || !view.dirty) return;
    const lines = await view.sync(this.deps.store, {
      allowExpunge,
      rev2: this.rev2,
      condstore: this.#enabled.has("CONDSTORE"),
      qresync: this.#enabled.has("QRESYNC"),
    });
    for (const l of lines) this.send(l);
    // RFC 9051 §7.1.5: the server may end the session when the selected mailbox is gone.
    if (view.deleted) throw new ByeError("Selected mailbox was deleted");
  }

  onChange(cb: (change: MailboxChange) => void): () => void {
    this.#watchers.add(cb);
    return () => this.#watchers.delete(cb);
  }

  // --- the loop ---

  /** Runs the session until LOGOUT, BYE, timeout or disconnect. */
  async run(): Promise<void> {
    const unsubscribe = this.deps.changeHub.subscribeChanges((change: MailboxChange) => {
      this.#selected?.onChange(change);
      for (const w of this.#watchers) w(change);
    });
    try {
      // RFC 9051 §7.1.1: greeting, with the capabilities to save a round trip.
      this.send(untagged(`OK [CAPABILITY ${this.capabilities().join(" ")}] denomail ready`));
      await this.flush();
      await this.#loop();
    } catch (e) {
      await this.#end(e);
    } finally {
      unsubscribe();
      this.#releaseUser?.();
      this.#watchers.clear();
      this.#selected = null;
    }
  }

  /** The goodbye for the error that ended the session. */
  async #end(e: unknown): Promise<void> {
    switch (endReason(e)) {
      case "too_slow":
        log.info("imap", "closing: client too slow", { ip: this.conn.remoteAddress });
        return await this.#bye("Command sent too slowly");
      case "idle":
        // RFC 9051 §5.4: autologout timer.
        return await this.#bye("Autologout; idle for too long");
      case "shutdown":
        // RFC 9051 §7.1.5: BYE when the server is shutting down. Replies already queued
        // (a command that completed) go out first.
        await this.flush().catch(() => {});
        return await this.#bye("Server shutting down");
      case "error":
        log.debug("imap", `session ended: ${(e as Error).message}`);
    }
  }

  async #bye(text: string): Promise<void> {
    this.#out.discard();
    try {
      await this.conn.write(untagged(`BYE ${text}`));
    } catch { /* already gone */ }
  }

  async #loop(): Promise<void> {
    while (this.#state !== "logout") {
      // Batch replies while the client has pipelined more commands.
      if (this.#out.due) await this.flush();
      let input: CommandInput;
      try {
        input = await this.#readCommand();
      } catch (e) {
        if (e instanceof LineTooLongError) {
          this.send(untagged("BAD Command line too long"));
          if (await this.#countBad()) return;
          continue;
        }
        if (e instanceof LiteralRefused) {
          this.send(tagged(e.tag, e.failure.status, e.failure.message, e.failure.code));
          if (e.close) {
            await this.flush().catch(() => {});
            await this.#bye("Command too large before login");
            return;
          }
          if (e.failure.status === "BAD" && await this.#countBad()) return;
          continue;
        }
        if (e instanceof ByeError) {
          await this.flush().catch(() => {});
          await this.#bye(e.message);
          return;
        }
        throw e;
      }
      if (await this.#execute(input)) return;
    }
    await this.flush();
  }

  /** Counts a BAD; true (after sending BYE) when the client has sent too many. */
  async #countBad(): Promise<boolean> {
    if (!this.#badCommands.count()) return false;
    await this.flush().catch(() => {});
    await this.#bye("Too many invalid commands");
    return true;
  }

  /** Reads one command: its lines and the literals between them. */
  async #readCommand(): Promise<CommandInput> {
    const lines: Uint8Array[] = [];
    const literals: Uint8Array[] = [];
    let total = 0;
    let verb = "";
    const limits = this.deps.config.limits;
    // Before login nobody is known: a whole command is a few KiB at most (issue 13 item 5).
    const preLogin = this.#state === "not-authenticated";
    for (;;) {
      const line = await this.conn.readLine(
        preLogin ? MAX_PRELOGIN_COMMAND : MAX_LINE,
        this.#timeoutMs,
      );
      if (lines.length === 0) {
        // Tolerate empty lines between commands (some clients send a stray CRLF).
        if (line.length === 0) {
          if (++this.#emptyLines > MAX_EMPTY_LINES) throw new ByeError("Too many empty lines");
          continue;
        }
        verb = peekVerb(line);
      }
      lines.push(line);
      total += line.length;
      const ann = literalAnnouncement(line);
      const tag = () => peekTag(lines[0]) ?? "*";
      if (preLogin && total > MAX_PRELOGIN_COMMAND) {
        throw await this.#refuse(tag(), ann, new ImapError("BAD", "Command too long", Code.TOOBIG));
      }
      if (!ann) return { lines, literals };
      if (!ann.sync && ann.size > MAX_LITERAL_MINUS && preLogin) {
        // RFC 7888 §4: before login we advertise LITERAL-, whose non-synchronizing literals
        // stop at 4096 octets; a bigger one is already on its way, so the session ends.
        throw await this.#refuse(
          tag(),
          ann,
          new ImapError("BAD", "Non-synchronizing literal too large", Code.TOOBIG),
        );
      }
      // Only a logged-in client may send a message-sized literal, and only in APPEND, which
      // holds at most max_message_bytes (storage takes a message whole); other commands
      // stay within MAX_COMMAND_BYTES, and before login within MAX_PRELOGIN_COMMAND.
      const isAppend = verb === "APPEND" && !preLogin;
      const literalCap = preLogin
        ? MAX_PRELOGIN_COMMAND
        : isAppend
        ? limits.maxMessageBytes
        : MAX_SMALL_LITERAL;
      const commandCap = preLogin
        ? MAX_PRELOGIN_COMMAND
        : isAppend
        ? limits.maxMessageBytes + MAX_LINE * 16
        : MAX_COMMAND_BYTES;
      if (
        ann.size > literalCap || total + ann.size > commandCap ||
        lines.length >= MAX_COMMAND_LINES
      ) {
        // RFC 7889 §4 / RFC 9051 §7.1: TOOBIG; for APPEND a NO, for anything else a BAD.
        throw await this.#refuse(
          tag(),
          ann,
          isAppend
            ? new ImapError("NO", "Message too large", Code.TOOBIG)
            : new ImapError("BAD", "Literal too large", Code.TOOBIG),
        );
      }
      if (ann.sync) {
        // RFC 9051 §4.3: the client waits for this before sending the literal.
        this.send("+ Ready for literal data\r\n");
        await this.flush();
      }
      literals.push(await this.conn.readBytes(ann.size, this.#timeoutMs));
      total += ann.size;
    }
  }

  /**
   * The refusal of a command too large to read. A synchronizing literal was never sent
   * (RFC 9051 §4.3: no continuation, the client gives the command up). A non-synchronizing
   * one (RFC 7888 §4) is already on its way: after login it is skipped in bounded memory;
   * before login the session ends instead of reading it (RFC 7888 §4 allows closing).
   */
  async #refuse(
    tag: string,
    ann: LiteralAnnouncement | null,
    failure: ImapError,
  ): Promise<LiteralRefused> {
    const close = ann !== null && !ann.sync && this.#state === "not-authenticated";
    log.info("imap", "command refused: too large", {
      ip: this.conn.remoteAddress,
      state: this.#state,
      ...(ann ? { literal: ann.size } : {}),
    });
    if (ann && !close) await this.#discardRest(ann);
    return new LiteralRefused(tag, failure, close);
  }

  /**
   * After refusing a literal: a synchronizing one was never sent; a non-synchronizing one
   * (RFC 7888 §4) is on its way and is skipped, with the rest of the command.
   */
  async #discardRest(ann: LiteralAnnouncement): Promise<void> {
    let next: LiteralAnnouncement | null = ann;
    while (next && !next.sync) {
      if (!Number.isFinite(next.size)) throw new ByeError("Literal too large");
      await this.conn.skipBytes(next.size, this.#timeoutMs);
      let line: Uint8Array;
      try {
        line = await this.conn.readLine(MAX_LINE, this.#timeoutMs);
      } catch (e) {
        if (e instanceof LineTooLongError) return;
        throw e;
      }
      next = literalAnnouncement(line);
    }
  }

  /** Parses, checks and runs one command; true when the session must end. */
  async #execute(input: CommandInput): Promise<boolean> {
    const r = new ArgReader(input);
    let tag: string;
    try {
      tag = r.tag();
      r.space();
    } catch {
      this.send(untagged("BAD Missing or invalid tag"));
      return await this.#countBad();
    }
    let verb = "";
    try {
      verb = r.atom("a command").toUpperCase();
      let uid = false;
      if (verb === "UID") {
        r.space();
        verb = `UID ${r.atom("a command").toUpperCase()}`;
        uid = true;
      }
      const handler = COMMANDS[verb];
      if (!handler) throw bad(`Unknown command ${verb}`);
      if (!allowedIn(this.#state, verb)) {
        throw bad(`${verb} is not allowed in the ${this.#state} state`);
      }
      const args = handler.parse(r);
      r.end();
      const done: Completion = (await handler.run(this, args, { tag, verb, uid })) ?? {};
      await this.#afterCommand(verb);
      this.send(tagged(tag, "OK", done.text ?? `${verb} completed`, done.code));
      if (done.after) {
        await this.flush();
        await done.after();
      }
      return false;
    } catch (e) {
      return await this.#fail(tag, verb, e);
    }
  }

  /** RFC 9051 §7.5: untagged updates before the tagged reply, EXPUNGE only where allowed. */
  async #afterCommand(verb: string): Promise<void> {
    if (this.#state !== "selected") return;
    await this.syncSelected(!NO_EXPUNGE_VERBS.has(verb));
  }

  /** The one place errors become replies. True when the session must end. */
  async #fail(tag: string, verb: string, e: unknown): Promise<boolean> {
    if (e instanceof ByeError) {
      await this.flush().catch(() => {});
      await this.#bye(e.message);
      return true;
    }
    const err = commandFailure(e, this.conn, isImapError, (e) => {
      if (e instanceof StoreError) return storeFailure(e);
      log.warn("imap", `${verb || "command"} failed: ${e.stack ?? e}`);
      return new ImapError("NO", "Internal error", Code.SERVERBUG);
    });
    try {
      await this.#afterCommand(verb);
    } catch (s) {
      if (s instanceof ByeError) return await this.#fail(tag, verb, s);
      throw s;
    }
    this.send(tagged(tag, err.status, err.message, err.code));
    if (err.status === "BAD") return await this.#countBad();
    return false;
  }
}

/** StoreError -> NO with the matching RFC 9051 §7.1 response code. */
function storeFailure(e: StoreError): ImapError {
  switch (e.code) {
    case "exists":
      return new ImapError("NO", "Mailbox already exists", Code.ALREADYEXISTS);
    case "not_found":
      return new ImapError("NO", "No such mailbox", Code.NONEXISTENT);
    case "in_use":
      return new ImapError("NO", e.message, Code.INUSE);
    case "quota":
      return new ImapError("NO", "Quota exceeded", Code.OVERQUOTA);
    case "invalid":
      return new ImapError("NO", e.message, Code.CANNOT);
  }
}
