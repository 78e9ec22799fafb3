/**
 * The plugin side of the wire, independent of how messages travel: the `init` handshake
 * (load the module, answer `ready` or `fatal`), hook calls (build the context, run the hook,
 * answer `result` or `error`), and the host services a hook reaches by message (kv, dns).
 *
 * Two transports use it: `runner.ts` (a child process: JSON lines on stdin/stdout) and
 * `worker_entry.ts` (a permission-scoped Worker inside the compiled binary's runner mode).
 *
 * Invariants:
 * - Calls run concurrently; each answer carries its call id.
 * - A hook that throws is answered with `error`; nothing a hook does ends the loop.
 *
 * @module
 */
import type {
  CallMsg,
  HostToRunner,
  PrepareMsg,
  RunnerToHost,
  SvcOp,
  WireResult,
} from "./protocol.ts";

import type { HookName, HookResult, PluginDefinition } from "./sdk.ts";
import { messageView } from "./message.ts";

const enc = new TextEncoder();

/** Checks that a loaded module's default export was made by definePlugin. */
export function pluginFromModule(mod: unknown): PluginDefinition {
  const def = (mod as { default?: unknown } | null)?.default as PluginDefinition | undefined;
  if (
    typeof def !== "object" || def === null || def.denomailPlugin !== 1 ||
    typeof def.hooks !== "object"
  ) {
    throw new Error("the module's default export is not a definePlugin({ hooks }) result");
  }
  return def;
}

/** Sends console output to stderr, so that a plugin that logs cannot corrupt a channel. */
export function redirectConsole(): void {
  const toErr = (...args: unknown[]) => {
    const line = args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ");
    try {
      Deno.stderr.writeSync(enc.encode(line + "\n"));
    } catch { /* stderr gone */ }
  };
  for (const k of ["log", "info", "debug", "warn", "error", "trace", "dir"] as const) {
    (console as unknown as Record<string, unknown>)[k] = toErr;
  }
}

/** A hook's result as a wire result and its payload (new body, then new message). */
function toWire(
  r: HookResult | undefined | null,
): { result: WireResult | null; payload: Uint8Array[] } {
  if (r === undefined || r === null) return { result: null, payload: [] };
  if (typeof r !== "object") throw new TypeError(`hook returned ${typeof r}, not an object`);
  const { body, message, ...rest } = r;
  const result: WireResult = { ...rest };
  const payload: Uint8Array[] = [];
  const bytes = (v: unknown, what: string) => {
    if (typeof v === "string") return enc.encode(v);
    if (v instanceof Uint8Array) return v;
    throw new TypeError(`${what} must be a string or a Uint8Array`);
  };
  if (body !== undefined) {
    const b = bytes(body, "body");
    result.bodyLen = b.length;
    payload.push(b);
  }
  if (message !== undefined) {
    const m = bytes(message, "message");
    result.messageLen = m.length;
    payload.push(m);
  }
  return { result, payload };
}

/** Prepared values kept at most (the oldest is forgotten first: its call does the work). */
const MAX_PREPARED = 256;

/** What `handle` tells its transport. */
export type HandleOutcome = "ok" | "fatal";

/** One plugin behind one channel. */
export class PluginRunner {
  #send: (msg: RunnerToHost, payload?: Uint8Array[]) => Promise<void>;
  #load: () => Promise<unknown>;
  #plugin: PluginDefinition | null = null;
  #name = "";
  #options: Record<string, unknown> = {};
  #nextSvcId = 1;
  #pendingSvc = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** `prepare` values by id, waiting for their call (a failed prepare holds undefined). */
  #prepared = new Map<number, Promise<unknown>>();
  #kv;
  #dns;

  /**
   * @param send writes one frame to the host (frames never interleave)
   * @param load loads the plugin module (its namespace object), at `init`
   */
  constructor(
    send: (msg: RunnerToHost, payload?: Uint8Array[]) => Promise<void>,
    load: () => Promise<unknown>,
  ) {
    this.#send = send;
    this.#load = load;
    const svc = (op: SvcOp, args: unknown[]) => this.#svc(op, args);
    this.#kv = {
      get: (key: string) => svc("kv.get", [key]) as Promise<string | null>,
      getMany: (keys: string[]) => svc("kv.getMany", [keys]) as Promise<(string | null)[]>,
      set: async (key: string, value: string, ttlMs?: number) => {
        await svc("kv.set", [key, value, ttlMs ?? null]);
      },
      incr: (key: string, by = 1, ttlMs?: number) =>
        svc("kv.incr", [key, by, ttlMs ?? null]) as Promise<number>,
      delete: async (key: string) => {
        await svc("kv.delete", [key]);
      },
    };
    this.#dns = {
      resolve: (name: string, type: string) =>
        svc("dns.resolve", [name, type]) as Promise<unknown[]>,
    };
  }

  /**
   * Handles one host frame (`bin`: its payload). "fatal": the module did not load; the
   * transport ends.
   */
  async handle(msg: HostToRunner, bin: Uint8Array | null = null): Promise<HandleOutcome> {
    if (this.#plugin === null) {
      if (msg.t !== "init") return "ok"; // nothing comes before init
      this.#name = msg.name;
      this.#options = msg.options ?? {};
      try {
        this.#plugin = pluginFromModule(await this.#load());
      } catch (e) {
        await this.#send({ t: "fatal", error: e instanceof Error ? e.message : String(e) });
        return "fatal";
      }
      await this.#send({
        t: "ready",
        hooks: Object.keys(this.#plugin.hooks) as HookName[],
        prepares: Object.keys(this.#plugin.prepare ?? {}) as HookName[],
      });
      return "ok";
    }
    switch (msg.t) {
      case "call":
        this.#runCall(msg, bin);
        return "ok";
      case "prepare":
        this.#runPrepare(msg, bin);
        return "ok";
      case "drop":
        this.#prepared.delete(msg.id);
        return "ok";
      case "svc_ok":
      case "svc_err": {
        const p = this.#pendingSvc.get(msg.id);
        if (!p) return "ok";
        this.#pendingSvc.delete(msg.id);
        if (msg.t === "svc_ok") p.resolve(msg.value);
        else p.reject(new Error(msg.error ?? "service failed"));
        return "ok";
      }
      case "init":
        return "ok"; // only the first init counts
    }
  }

  #svc(op: SvcOp, args: unknown[]): Promise<unknown> {
    const id = this.#nextSvcId++;
    return new Promise((resolve, reject) => {
      this.#pendingSvc.set(id, { resolve, reject });
      this.#send({ t: "svc", id, op, args });
    });
  }

  #runPrepare(msg: PrepareMsg, bin: Uint8Array | null): void {
    const fn = (this.#plugin!.prepare as Record<string, (c: unknown) => unknown> | undefined)
      ?.[msg.hook];
    if (!fn) return;
    if (this.#prepared.size >= MAX_PREPARED) {
      this.#prepared.delete(this.#prepared.keys().next().value!);
    }
    const ctx = this.#context(msg, bin);
    // A prepare that throws leaves nothing prepared: the hook then does the work itself.
    this.#prepared.set(msg.id, (async () => await fn(ctx))().catch(() => undefined));
  }

  #context(call: CallMsg | PrepareMsg, bin: Uint8Array | null): Record<string, unknown> {
    const ctx: Record<string, unknown> = {
      ...call.ctx,
      hook: call.hook,
      plugin: this.#name,
      options: this.#options,
      kv: this.#kv,
      dns: this.#dns,
    };
    const m = call.ctx.message as { bin?: boolean } | undefined;
    if (m?.bin) ctx.message = messageView(bin ?? new Uint8Array(0));
    return ctx;
  }

  async #runCall(call: CallMsg, bin: Uint8Array | null): Promise<void> {
    const fn = this.#plugin!.hooks[call.hook] as
      | ((c: unknown) => HookResult | void | Promise<HookResult | void>)
      | undefined;
    try {
      const ctx = this.#context(call, bin);
      if (call.prepared !== undefined) {
        const p = this.#prepared.get(call.prepared);
        this.#prepared.delete(call.prepared);
        if (p) ctx.prepared = await p;
      }
      const r = fn ? await fn(ctx) : undefined;
      const { result, payload } = toWire(r ?? null);
      await this.#send({ t: "result", id: call.id, result }, payload);
    } catch (e) {
      const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      await this.#send({ t: "error", id: call.id, error: err.slice(0, 1000) });
    }
  }
}
