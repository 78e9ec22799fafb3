/**
 * One long-lived runner process for one plugin, or for the members of a `group` (plugins
 * that share one sandbox): start, pipelined calls with ids, per-call deadlines, SIGKILL on
 * timeout, restart with backoff after a crash.
 *
 * Invariants:
 * - `call()` never rejects and never outlives its deadline by more than one deadline sweep
 *   (SWEEP_MS): it resolves with the plugin's answer or with an error string (timeout,
 *   crash, throw, restarting).
 * - A call that times out kills the process (a busy loop cannot be told from a slow hook,
 *   and only SIGKILL stops a busy loop); every other call in flight then fails at once.
 * - Memory use on the host side is bounded: a runner line longer than `maxLineBytes`, or
 *   stderr beyond a small tail, is not buffered.
 *
 * @module
 */
import { explainDenied } from "./denied.ts";
import type { PluginConfig } from "./config.ts";
import { log } from "../../lib/log.ts";
import type { HookName, Reads } from "../sdk.ts";
import { wireMessage } from "./message.ts";
import type { CallEntry, CallMsg, HostToRunner, RunnerToHost, SvcMsg, SvcOp } from "./protocol.ts";
import { encodeFrame, FrameQueue, FrameReader, parseRunnerMessage } from "./protocol.ts";
import { runnerCommand, type SandboxMode, sandboxMode, type SpawnSpec } from "./spawn.ts";

/**
 * What one call came to: an entry per member that ran (see protocol.ts `CallEntry`), or an
 * error for the call as a whole (timeout, crash, restarting).
 */
export type CallOutcome = { ok: true; entries: CallEntry[] } | { ok: false; error: string };

/** Host services: answers a runner's service request (kv, dns), namespaced by the caller. */
export type ServiceHandler = (plugin: string, op: SvcOp, args: unknown[]) => Promise<unknown>;

/**
 * starting: a runner is loading (calls wait); ready; restarting: the runner died after it
 * was ready and is being replaced at once (calls wait); down: failed, waiting out a backoff
 * (calls fail fast); stopped: for good.
 */
export type ProcessState = "starting" | "ready" | "restarting" | "down" | "stopped";

/** Tunables (tests shorten them). */
export interface ProcessOptions {
  /** How long a fresh runner may take to load its module. Default max(10 s, timeout). */
  startupTimeoutMs?: number;
  /** First restart delay after a second consecutive failure; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest accepted runner line (a data hook answer carries a whole body). */
  maxLineBytes?: number;
  /** Replaces the command line (tests). */
  spawn?: SpawnSpec;
  /** How to sandbox (default: `sandboxMode()`: "worker" in a compiled binary). */
  sandbox?: SandboxMode;
  /** Paths a plugin may never import even inside its folder (data dir, TLS files). */
  deniedPaths?: string[];
  /** Aborted once the server is shutting down (SIGINT/SIGTERM): runners may die then. */
  shutdown?: AbortSignal;
  /** Where the runner's socket folder is made (default: the system's temp folder). */
  socketParent?: string;
}

interface Pending {
  resolve(o: CallOutcome): void;
  /** performance.now() after which the call has timed out. */
  deadline: number;
  /** What to say and do then. */
  timeoutMs: number;
  hook: HookName;
  child: Deno.ChildProcess;
}

/**
 * Call deadlines are checked by one sweep every SWEEP_MS across all runners, not by a
 * timer per call: a timer set and cleared per call costs more than the call's own framing
 * (measured), and a timeout a few ms late is well within "timeout + 1 s". Module-level on
 * purpose: one timer for every runner of the process, whichever host started it.
 */
const SWEEP_MS = 20;
const watched = new Set<PluginProcess>();
let sweeper: ReturnType<typeof setInterval> | null = null;

function watch(p: PluginProcess): void {
  watched.add(p);
  sweeper ??= setInterval(() => {
    const now = performance.now();
    for (const w of watched) if (!w.expire(now)) watched.delete(w);
    if (watched.size === 0 && sweeper !== null) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }, SWEEP_MS);
}

const STDERR_TAIL = 2048;

/**
 * Service requests that arrive together (one read: a plugin that asked kv and dns at once)
 * are answered together, in one write, so the plugin wakes once instead of once per
 * answer; an answer waits at most this long for its slower siblings.
 */
const SVC_HOLD_MS = 2;

/** A plugin runner process, restarted as needed. */
export class PluginProcess {
  state: ProcessState = "down";
  /** Per member: the hooks its module declared when it last loaded. */
  hooks: HookName[][];
  /** Per member: the hooks its module can prepare (sdk.ts `Prepares`). */
  prepares: HookName[][];
  /** Per member: what it reads of the message, per message hook (absent: "message"). */
  reads: Partial<Record<HookName, Reads>>[];
  /** Per member: its data hook may be asked ahead of its turn (sdk.ts `Early`). */
  early: boolean[];
  /** Why the last start or call failed (for `plugin list` and errors). */
  lastError: string | null = null;
  /** How many times the runner was (re)started. */
  starts = 0;

  #child: Deno.ChildProcess | null = null;
  /**
   * Process mode: the runner's socket, the listener it has yet to connect to, and the
   * private folder the listener's path is in (removed once the runner connected).
   */
  #conn: Deno.UnixConn | null = null;
  #listener: Deno.UnixListener | null = null;
  #socketDir: string | null = null;
  #out: FrameQueue | null = null;
  #pending = new Map<number, Pending>();
  /** Prepared ids not yet called or dropped, and the runner that holds each. */
  #preparedBy = new Map<number, Deno.ChildProcess>();
  #nextId = 1;
  #failures = 0;
  #readyWaiters: Array<(ok: boolean) => void> = [];
  #restartTimer: ReturnType<typeof setTimeout> | null = null;
  #killReason: string | null = null;
  #stderrTail = "";
  #opts: Required<Omit<ProcessOptions, "spawn" | "sandbox" | "shutdown" | "socketParent">> & {
    spawn?: SpawnSpec;
    sandbox?: SandboxMode;
    shutdown?: AbortSignal;
    socketParent?: string;
  };

  /**
   * @param members the plugins this process runs: one, or a group's (same grant and
   *   memory_mb, checked by config.ts), in config order
   */
  constructor(
    readonly members: PluginConfig[],
    readonly services: ServiceHandler,
    opts: ProcessOptions = {},
  ) {
    this.hooks = members.map(() => []);
    this.prepares = members.map(() => []);
    this.reads = members.map(() => ({}));
    this.early = members.map(() => false);
    this.#opts = {
      startupTimeoutMs: opts.startupTimeoutMs ??
        Math.max(10_000, ...members.map((m) => m.timeoutMs)),
      backoffMs: opts.backoffMs ?? 250,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      maxLineBytes: opts.maxLineBytes ?? 128 * 1024 * 1024,
      spawn: opts.spawn,
      sandbox: opts.sandbox,
      deniedPaths: opts.deniedPaths ?? [],
      shutdown: opts.shutdown,
      socketParent: opts.socketParent,
    };
  }

  /** The runner's process id while one runs (for its memory figure), else null. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** What member `p` reads of the message in `hook` (sdk.ts `Reads`). */
  readsOf(p: number, hook: HookName): Reads {
    return this.reads[p]?.[hook] ?? "message";
  }

  /** Calls sent and not yet answered (the pool sends new calls to the least loaded). */
  get load(): number {
    return this.#pending.size;
  }

  /** The plugin's name, or "group <name>" (for logs). */
  get name(): string {
    return this.members.length === 1 ? this.members[0].name : `group ${this.members[0].group}`;
  }

  /** Starts the runner; resolves true once it reported ready, false if it failed to load. */
  start(): Promise<boolean> {
    if (this.state === "stopped") return Promise.resolve(false);
    if (this.state === "starting" || this.#child) return this.whenReady();
    if (this.state === "ready") return Promise.resolve(true);
    this.state = "starting";
    this.starts++;
    this.#stderrTail = "";
    this.#killReason = null;
    let child: Deno.ChildProcess;
    // Process mode talks over a Unix socket (cheaper per frame than the piped web streams,
    // and per write than loopback TCP); a custom command and worker mode keep stdin/stdout.
    const socket = !this.#opts.spawn && (this.#opts.sandbox ?? sandboxMode()) === "process";
    let listener: Deno.UnixListener | null = null;
    const token = Array.from(crypto.getRandomValues(new Uint8Array(16)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    try {
      let path = "";
      if (socket) {
        try {
          // mkdtemp: a folder only this user can enter, so only the runner reaches the path.
          this.#removeSocketDir();
          this.#socketDir = Deno.makeTempDirSync({
            prefix: "denomail-plugin-",
            dir: this.#opts.socketParent,
          });
          path = `${this.#socketDir}/s`;
          listener = Deno.listen({ transport: "unix", path });
        } catch (e) {
          // No writable temp folder (a read-only /tmp, say): the pipes work too, slower.
          this.#removeSocketDir();
          log.warn("plugin", `plugin ${this.name}: no Unix socket, using stdin/stdout`, {
            error: (e as Error).message,
          });
        }
      }
      const spec = this.#opts.spawn ??
        runnerCommand(
          this.members,
          this.#opts.sandbox,
          listener ? { path, token } : undefined,
          this.#opts.deniedPaths,
        );
      child = new Deno.Command(spec.cmd, {
        args: spec.args,
        stdin: listener ? "null" : "piped",
        stdout: listener ? "null" : "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", ...spec.env },
      }).spawn();
    } catch (e) {
      listener?.close();
      this.#removeSocketDir();
      this.lastError = `cannot start: ${(e as Error).message}`;
      this.state = "down";
      this.#settleReady(false);
      return Promise.resolve(false);
    }
    this.#child = child;
    if (listener) {
      this.#listener = listener;
      this.#accept(child, listener, token);
    } else {
      const writer = child.stdin.getWriter();
      this.#out = new FrameQueue((b) => writer.write(b));
      this.#readStdout(child);
    }
    this.#readStderr(child);
    const startup = setTimeout(() => {
      if (this.#child === child && this.state === "starting") {
        this.#kill(child, `did not load within ${this.#opts.startupTimeoutMs} ms`);
      }
    }, this.#opts.startupTimeoutMs);
    child.status.then((s) => {
      clearTimeout(startup);
      this.#onExit(child, s);
    });
    if (!listener) this.#sendInit();
    return this.whenReady();
  }

  /**
   * Takes the runner's connection: the first one that presents `token` (anything else is
   * closed). The listener closes then, so nothing else can connect later.
   */
  async #accept(child: Deno.ChildProcess, listener: Deno.UnixListener, token: string) {
    const want = new TextEncoder().encode(token + "\n");
    let conn: Deno.UnixConn | null = null;
    try {
      while (!conn) {
        const c = await listener.accept();
        const got = new Uint8Array(want.length);
        let off = 0;
        try {
          while (off < got.length) {
            const n = await c.read(got.subarray(off));
            if (n === null) break;
            off += n;
          }
        } catch { /* a bad peer */ }
        if (off === got.length && got.every((b, i) => b === want[i])) conn = c;
        else c.close();
      }
    } catch {
      return; // listener closed: the runner exited or was killed first
    } finally {
      try {
        listener.close();
      } catch { /* closed */ }
      if (this.#listener === listener) {
        this.#listener = null;
        this.#removeSocketDir();
      }
    }
    if (this.#child !== child) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#out = new FrameQueue(async (b) => {
      let off = 0;
      while (off < b.length) off += await conn.write(b.subarray(off));
    });
    this.#readConn(child, conn);
    this.#sendInit();
  }

  /** Removes the listener's folder (and the socket path in it), if there is one. */
  #removeSocketDir(): void {
    if (this.#socketDir === null) return;
    try {
      Deno.removeSync(this.#socketDir, { recursive: true });
    } catch { /* gone already */ }
    this.#socketDir = null;
  }

  #sendInit(): void {
    this.#send({
      t: "init",
      plugins: this.members.map((m) => ({ name: m.name, options: m.options, onError: m.onError })),
    });
  }

  /** Resolves true when the runner is ready, false when this start attempt failed. */
  whenReady(): Promise<boolean> {
    if (this.state === "ready") return Promise.resolve(true);
    if (this.state !== "starting" && this.state !== "restarting") return Promise.resolve(false);
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /**
   * Runs one hook on `members` (indexes, in order; see protocol.ts `CallMsg`) within
   * `timeoutMs` of now. Never rejects. `message`, when given, travels as the frame's
   * payload (the runner makes it `ctx.message`). `prepared`: per member, the id of a
   * `prepare` for this message, or undefined. `reads`: how much of `message` to send (the
   * most any of `members` reads; sdk.ts `Reads`). `size`: with no `message` and `reads`
   * "envelope", the size of a message still arriving (an early call: sdk.ts `Early`).
   */
  async call(
    hook: HookName,
    members: number[],
    ctx: Record<string, unknown>,
    timeoutMs: number,
    message?: Uint8Array,
    prepared: (number | undefined)[] = [],
    reads: Reads = "message",
    size?: number,
  ): Promise<CallOutcome> {
    const deadline = performance.now() + timeoutMs;
    const preparedIn = prepared.map((id) => {
      if (id === undefined) return undefined;
      const child = this.#preparedBy.get(id);
      this.#preparedBy.delete(id);
      return child;
    });
    if (this.state === "starting" || this.state === "restarting") {
      const ok = await raceTimeout(this.whenReady(), timeoutMs);
      if (ok !== true) {
        return { ok: false, error: ok === null ? "timeout (starting)" : this.#downReason() };
      }
    }
    if (this.state !== "ready" || !this.#child) return { ok: false, error: this.#downReason() };
    const child = this.#child;
    const id = this.#nextId++;
    const msg: CallMsg = { t: "call", id, hook, members, ctx };
    // A prepared value of an earlier runner died with it; this one does the work itself.
    const ids = prepared.map((p, i) => p !== undefined && preparedIn[i] === child ? p : null);
    if (ids.some((p) => p !== null)) msg.prepared = ids;
    return await new Promise<CallOutcome>((resolve) => {
      this.#pending.set(id, { resolve, deadline, timeoutMs, hook, child });
      watch(this);
      const sent = message ? wireMessage(message, reads) : null;
      if (sent) msg.ctx = { ...ctx, message: sent.wire };
      else if (size !== undefined && reads === "envelope") {
        msg.ctx = { ...ctx, message: { reads, size } };
      }
      this.#send(msg, sent?.bytes ? [sent.bytes] : []);
    });
  }

  /**
   * Fails the calls whose deadline passed (the sweep calls this); returns whether calls
   * are still in flight. A hook that does not answer may be a busy loop: only SIGKILL
   * stops it, so the runner is killed.
   */
  expire(now: number): boolean {
    for (const [id, p] of this.#pending) {
      if (p.deadline > now) continue;
      this.#pending.delete(id);
      p.resolve({ ok: false, error: `timeout after ${p.timeoutMs} ms` });
      this.#kill(p.child, `hook ${p.hook} timed out`);
    }
    return this.#pending.size > 0;
  }

  /**
   * Asks the runner to start `prepare[hook]` for a call that will come (sdk.ts `Prepares`);
   * returns the id to hand to that `call`, or null when the plugin cannot prepare now.
   * No answer comes back and no deadline runs: the call's own deadline covers the work.
   */
  prepare(
    p: number,
    hook: HookName,
    ctx: Record<string, unknown>,
    message: Uint8Array,
  ): number | null {
    if (this.state !== "ready" || !this.#child || !this.prepares[p]?.includes(hook)) return null;
    const id = this.#nextId++;
    this.#preparedBy.set(id, this.#child);
    const sent = wireMessage(message, this.readsOf(p, hook));
    this.#send(
      { t: "prepare", id, p, hook, ctx: { ...ctx, message: sent.wire } },
      sent.bytes ? [sent.bytes] : [],
    );
    return id;
  }

  /** Tells the runner that the prepared value `id` will not be asked for. */
  drop(id: number): void {
    const child = this.#preparedBy.get(id);
    this.#preparedBy.delete(id);
    if (child && child === this.#child) this.#send({ t: "drop", id });
  }

  /** Stops the runner for good (closing stdin first, then SIGKILL). */
  async stop(): Promise<void> {
    this.state = "stopped";
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    const child = this.#child;
    this.#failAll("plugin host stopping");
    this.#settleReady(false);
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status.catch(() => {});
    }
  }

  #downReason(): string {
    return this.state === "stopped"
      ? "plugin host stopped"
      : `plugin not running${this.lastError ? `: ${this.lastError}` : ""}`;
  }

  #send(msg: HostToRunner, payload: Uint8Array[] = []): void {
    // A write to a runner that is gone fails quietly; its exit handler fails the calls.
    this.#out?.pushFrame(msg, payload);
  }

  #kill(child: Deno.ChildProcess, reason: string): void {
    if (this.#child !== child) return;
    this.#killReason ??= reason;
    // New calls wait for the replacement instead of going to a dying process.
    if (this.state === "ready") this.state = "restarting";
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }

  #settleReady(ok: boolean): void {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const w of waiters) w(ok);
  }

  #failAll(error: string): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) {
      p.resolve({ ok: false, error });
    }
  }

  #onExit(child: Deno.ChildProcess, s: Deno.CommandStatus): void {
    if (this.#child !== child) return;
    this.#child = null;
    this.#out = null;
    for (const c of [this.#conn, this.#listener]) {
      try {
        c?.close();
      } catch { /* closed */ }
    }
    this.#conn = null;
    this.#listener = null;
    this.#removeSocketDir();
    this.#preparedBy.clear();
    const how = s.signal ? `killed by ${s.signal}` : `exited with code ${s.code}`;
    // Deno's own "error: Uncaught ..." line says more than the stack lines after it.
    const lines = this.#stderrTail.split("\n").map((l) => l.trim()).filter((l) => l);
    const tail = lines.findLast((l) => l.startsWith("error:")) ?? lines.at(-1) ?? "";
    const reason = this.#killReason ??
      (/out of memory|heap limit/i.test(this.#stderrTail)
        ? `out of memory (memory_mb = ${this.members[0].memoryMb})`
        : `${how}${tail ? `: ${explainDenied(this.name, tail.slice(0, 300))}` : ""}`);
    this.lastError = reason;
    this.#failAll(`plugin crashed: ${reason}`);
    if (this.state === "stopped") return;
    const wasUp = this.state === "ready" || this.state === "restarting";
    // Ctrl-C reaches the whole process group and a service manager's SIGTERM the whole
    // cgroup: a runner ended by that signal during a shutdown is expected, not a failure.
    const bySignal = s.signal === "SIGINT" || s.signal === "SIGTERM";
    if (bySignal && this.#opts.shutdown?.aborted) {
      log.debug("plugin", `plugin ${this.name} stopped by ${s.signal} (shutting down)`);
    } else if (bySignal) {
      log.info("plugin", `plugin ${this.name} stopped by ${s.signal}; restarting`);
    } else {
      this.#failures++;
      log.warn("plugin", `plugin ${this.name} stopped`, { reason, failures: this.#failures });
    }
    // Restart with backoff: at once after the first failure, then 250 ms, 500 ms, ... 30 s.
    const delay = this.#failures <= 1
      ? 0
      : Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (this.#failures - 2));
    this.state = "down";
    if (wasUp && delay === 0) {
      // It was serving: replace it now; waiting calls ride on the new start.
      this.start();
      return;
    }
    this.#settleReady(false);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.state === "down") this.start();
    }, delay);
  }

  async #readStdout(child: Deno.ChildProcess): Promise<void> {
    const reader = child.stdout.getReader();
    await this.#readFrames(child, async () => {
      const { value, done } = await reader.read();
      return done ? null : value;
    }, false);
  }

  async #readConn(child: Deno.ChildProcess, conn: Deno.UnixConn): Promise<void> {
    // One read buffer, reused (the frame reader copies what outlives a read).
    const buf = new Uint8Array(64 * 1024);
    await this.#readFrames(child, async () => {
      const n = await conn.read(buf);
      return n === null ? null : buf.subarray(0, n);
    }, true);
  }

  async #readFrames(
    child: Deno.ChildProcess,
    read: () => Promise<Uint8Array | null>,
    reused: boolean,
  ): Promise<void> {
    const frames = new FrameReader();
    try {
      while (true) {
        const value = await read();
        if (value === null) break;
        const svc: SvcMsg[] = [];
        for (const f of frames.push(value, reused)) {
          this.#onFrame(child, f.value, f.line, f.bin, svc);
        }
        if (svc.length > 0) this.#serve(child, svc);
        if (frames.pending > this.#opts.maxLineBytes) {
          this.#kill(child, "runner wrote an over-long frame");
          frames.reset();
        }
      }
    } catch { /* stream broke: the exit handler reports it */ }
  }

  async #readStderr(child: Deno.ChildProcess): Promise<void> {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#stderrTail = (this.#stderrTail + value).slice(-STDERR_TAIL);
        if (log.enabled("debug")) {
          log.debug("plugin", `plugin ${this.name} stderr`, {
            text: value.trimEnd().slice(0, 500),
          });
        }
      }
    } catch { /* ignore */ }
  }

  /** Answers service requests that came in one read; see {@link SVC_HOLD_MS}. */
  #serve(child: Deno.ChildProcess, batch: SvcMsg[]): void {
    let left = batch.length;
    let held: Uint8Array[] | null = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const write = (frame: Uint8Array) => {
      // An answer for a runner that has since been replaced would meet another id space.
      if (this.#child === child) this.#out?.push(frame);
    };
    const flush = () => {
      clearTimeout(timer);
      for (const f of held ?? []) write(f);
      held = null;
    };
    for (const msg of batch) {
      const member = this.members[msg.p];
      (member
        ? this.services(member.name, msg.op, msg.args)
        : Promise.reject(new Error(`no plugin #${msg.p}`))).then(
          (value) => encodeFrame({ t: "svc_ok", id: msg.id, value: value ?? null }),
          (e) =>
            encodeFrame({ t: "svc_err", id: msg.id, error: String((e as Error).message ?? e) }),
        ).then((frame) => {
          left--;
          if (held === null) return write(frame);
          held.push(frame);
          if (left === 0) flush();
          else if (held.length === 1) timer = setTimeout(flush, SVC_HOLD_MS);
        });
    }
  }

  #onFrame(
    child: Deno.ChildProcess,
    value: unknown,
    line: string,
    bin: Uint8Array | null,
    svc: SvcMsg[],
  ) {
    if (line.trim() === "") return;
    const msg: RunnerToHost | null = parseRunnerMessage(value, bin);
    if (!msg) {
      log.debug("plugin", `plugin ${this.name} wrote a non-protocol line`, {
        text: line.slice(0, 200),
      });
      return;
    }
    switch (msg.t) {
      case "ready":
        if (this.state !== "starting") return;
        if (msg.plugins.length !== this.members.length) {
          this.lastError = `runner loaded ${msg.plugins.length} of ${this.members.length} plugins`;
          this.#kill(child, this.lastError);
          return;
        }
        this.hooks = msg.plugins.map((p) => p.hooks);
        this.reads = msg.plugins.map((p) => p.reads ?? {});
        this.early = msg.plugins.map((p) => p.early === true);
        this.prepares = msg.plugins.map((p) =>
          (p.prepares ?? []).filter((h) => p.hooks.includes(h))
        );
        this.state = "ready";
        this.lastError = null;
        this.#settleReady(true);
        return;
      case "fatal":
        this.lastError = `cannot load: ${explainDenied(this.name, msg.error)}`;
        this.#kill(child, this.lastError);
        return;
      case "result":
      case "error": {
        const p = this.#pending.get(msg.id);
        if (!p) return; // answered after its deadline
        this.#pending.delete(msg.id);
        if (msg.t === "result") {
          this.#failures = 0;
          p.resolve({ ok: true, entries: msg.entries });
        } else {
          p.resolve({ ok: false, error: `runner failed: ${msg.error}` });
        }
        return;
      }
      case "svc":
        svc.push(msg);
        return;
    }
  }
}

/** Resolves with the promise's value, or null after `ms`. */
function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
  ]).finally(() => clearTimeout(timer));
}
