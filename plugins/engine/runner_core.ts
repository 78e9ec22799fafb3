/**
 * The plugin side of the wire, independent of how messages travel: the `init` handshake
 * (load the modules, answer `ready` or `fatal`), hook calls (build each context, run the
 * hooks of the members asked, in order, answer `result`), and the host services a hook
 * reaches by message (kv, dns), namespaced per member.
 *
 * Two transports use it: `runner.ts` (a child process: JSON lines on stdin/stdout) and
 * `worker_entry.ts` (a permission-scoped Worker inside the compiled binary's runner mode).
 *
 * Invariants:
 * - Calls run concurrently; each answer carries its call id.
 * - Within a call, the members run one after another under the rules of plugins/engine/chain.ts,
 *   so a group's plugins see what they would see in separate processes. A hook that throws
 *   is an `error` entry for that member; nothing a hook does ends the loop.
 *
 * @module
 */
import type {
  CallEntry,
  CallMsg,
  HostToRunner,
  InitMsg,
  PrepareMsg,
  RunnerToHost,
  SvcOp,
  WireMessage,
  WireResult,
} from "./protocol.ts";
import {
  type HookName,
  type HookResult,
  type MessageHook,
  type MessageView,
  type PluginDefinition,
  type PluginResultSummary,
  READS,
  type Reads,
  readsPerHook,
} from "../sdk.ts";
import { bodyOffset, envelopeView, envelopeViewProto, messageView } from "./message.ts";
import { ChainState } from "./chain.ts";
import { checkResult } from "./verdict.ts";

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
  readsPerHook(def.reads); // a hand-made definition is checked as definePlugin checks
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

/**
 * No bytes: what an envelope-only plugin is given (shared; a zero-length array holds
 * nothing to change, and a fresh ArrayBuffer per call costs the collector).
 */
const EMPTY = Object.freeze(new Uint8Array(0)) as Uint8Array;

/** Why member `m` cannot read more than `reads` in `hook` (made once per member and hook). */
function deniedText(m: Member, hook: HookName, reads: "envelope" | "headers"): string {
  const key = `${hook} ${reads}`;
  let text = m.denied.get(key);
  if (text === undefined) {
    text = `plugin "${m.name}" declared reads = "${reads}" for ${hook}: ` +
      `the ${reads === "headers" ? "body is" : "message is"} not sent to it ` +
      `(declare reads: "message"${reads === "envelope" ? ' or "headers"' : ""} to read it)`;
    m.denied.set(key, text);
  }
  return text;
}

/** The shared part of member `m`'s envelope-only views in `hook` (message.ts). */
function refusing(m: Member, hook: HookName): Omit<MessageView, "size"> {
  let proto = m.envelopeViews.get(hook);
  if (proto === undefined) {
    proto = envelopeViewProto(deniedText(m, hook, "envelope"));
    m.envelopeViews.set(hook, proto);
  }
  return proto;
}

/** What a hook that returned nothing comes to (shared: never changed). */
const NO_RESULT = Object.freeze({
  result: null,
  payload: Object.freeze([]) as unknown as Uint8Array[],
  checkable: null,
});

/** A hook's result as a wire result and its payload (new body, then new message). */
function toWire(
  r: HookResult | undefined | null,
): { result: WireResult | null; payload: Uint8Array[]; checkable: WireResult | null } {
  if (r === undefined || r === null) return NO_RESULT;
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
  // What checkResult reads: the same answer with its bytes in place.
  const checkable: WireResult = { ...result };
  if (result.bodyLen !== undefined) checkable.body = payload[0];
  if (result.messageLen !== undefined) checkable.message = payload[payload.length - 1];
  return { result, payload, checkable };
}

/** Prepared values kept at most (the oldest is forgotten first: its call does the work). */
const MAX_PREPARED = 256;

/** What `handle` tells its transport. */
export type HandleOutcome = "ok" | "fatal";

/** One loaded plugin of this runner. */
interface Member {
  name: string;
  options: Record<string, unknown>;
  onError: "tempfail" | "continue";
  plugin: PluginDefinition;
  /** What it reads of the message, per message hook (sdk.ts `Reads`). */
  reads: Record<MessageHook, Reads>;
  kv: unknown;
  dns: unknown;
  /** deniedText's answers, by hook and reads. */
  denied: Map<string, string>;
  /** refusing's answers, by hook. */
  envelopeViews: Map<HookName, Omit<MessageView, "size">>;
}

/** The plugins behind one channel: one, or the members of a `group`, in config order. */
export class PluginRunner {
  #send: (msg: RunnerToHost, payload?: Uint8Array[]) => Promise<void>;
  #load: () => Promise<unknown[]>;
  #members: Member[] | null = null;
  #nextSvcId = 1;
  #pendingSvc = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** `prepare` values by id, waiting for their call (a failed prepare holds undefined). */
  #prepared = new Map<number, Promise<unknown>>();

  /**
   * @param send writes one frame to the host (frames never interleave)
   * @param load loads the plugin modules (their namespace objects, in `init` order)
   */
  constructor(
    send: (msg: RunnerToHost, payload?: Uint8Array[]) => Promise<void>,
    load: () => Promise<unknown[]>,
  ) {
    this.#send = send;
    this.#load = load;
  }

  /** The services a member's hooks reach by message, namespaced by the host per member. */
  #services(p: number) {
    const svc = (op: SvcOp, args: unknown[]) => this.#svc(p, op, args);
    const kv = {
      get: (key: string) => svc("kv.get", [key]) as Promise<string | null>,
      getMany: (keys: string[]) => svc("kv.getMany", [keys]) as Promise<(string | null)[]>,
      set: async (key: string, value: string, ttlMs?: number) => {
        await svc("kv.set", [key, value, ttlMs ?? null]);
      },
      incr: (key: string, by = 1, ttlMs?: number) =>
        svc("kv.incr", [key, by, ttlMs ?? null]) as Promise<number>,
      incrMany: (entries: Array<[string, number]>, ttlMs?: number) =>
        svc("kv.incrMany", [entries, ttlMs ?? null]) as Promise<(number | null)[]>,
      delete: async (key: string) => {
        await svc("kv.delete", [key]);
      },
    };
    const dns = {
      resolve: (name: string, type: string) =>
        svc("dns.resolve", [name, type]) as Promise<unknown[]>,
    };
    return { kv, dns };
  }

  /**
   * Handles one host frame (`bin`: its payload). "fatal": a module did not load; the
   * transport ends.
   */
  handle(
    msg: HostToRunner,
    bin: Uint8Array | null = null,
  ): HandleOutcome | Promise<HandleOutcome> {
    // Not async: a frame that needs no waiting (every one after init) costs no promise.
    if (this.#members === null) {
      if (msg.t !== "init") return "ok"; // nothing comes before init
      return this.#init(msg);
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

  async #init(msg: InitMsg): Promise<HandleOutcome> {
    const members: Member[] = [];
    try {
      const mods = await this.#load();
      if (mods.length !== msg.plugins.length) {
        throw new Error(`${msg.plugins.length} plugins named, ${mods.length} modules given`);
      }
      for (const [i, m] of msg.plugins.entries()) {
        let plugin;
        try {
          plugin = pluginFromModule(mods[i]);
        } catch (e) {
          // In a group, say which module it was.
          throw msg.plugins.length > 1 ? new Error(`${m.name}: ${(e as Error).message}`) : e;
        }
        let reads;
        try {
          reads = readsPerHook(plugin.reads);
        } catch (e) {
          throw new Error(`plugin "${m.name}": ${(e as Error).message}`);
        }
        members.push({
          ...m,
          options: m.options ?? {},
          plugin,
          reads,
          ...this.#services(i),
          denied: new Map(),
          envelopeViews: new Map(),
        });
      }
    } catch (e) {
      await this.#send({ t: "fatal", error: e instanceof Error ? e.message : String(e) });
      return "fatal";
    }
    this.#members = members;
    await this.#send({
      t: "ready",
      plugins: members.map((m) => ({
        hooks: Object.keys(m.plugin.hooks) as HookName[],
        prepares: Object.keys(m.plugin.prepare ?? {}) as HookName[],
        reads: m.reads,
        ...(m.plugin.early === true && "data" in m.plugin.hooks ? { early: true } : {}),
      })),
    });
    return "ok";
  }

  #svc(p: number, op: SvcOp, args: unknown[]): Promise<unknown> {
    const id = this.#nextSvcId++;
    return new Promise((resolve, reject) => {
      this.#pendingSvc.set(id, { resolve, reject });
      this.#send({ t: "svc", id, p, op, args });
    });
  }

  #runPrepare(msg: PrepareMsg, bin: Uint8Array | null): void {
    const member = this.#members![msg.p];
    const fn = (member?.plugin.prepare as Record<string, (c: unknown) => unknown> | undefined)
      ?.[msg.hook];
    if (!fn) return;
    if (this.#prepared.size >= MAX_PREPARED) {
      this.#prepared.delete(this.#prepared.keys().next().value!);
    }
    const ctx = this.#context(member, msg.hook, msg.ctx, bin);
    // A prepare that throws leaves nothing prepared: the hook then does the work itself.
    this.#prepared.set(msg.id, (async () => await fn(ctx))().catch(() => undefined));
  }

  #context(
    member: Member,
    hook: HookName,
    fields: Record<string, unknown>,
    bin: Uint8Array | null | undefined,
  ): Record<string, unknown> {
    const ctx: Record<string, unknown> = {
      ...fields,
      hook,
      plugin: member.name,
      options: member.options,
      kv: member.kv,
      dns: member.dns,
    };
    const m = fields.message as WireMessage | undefined;
    if (m?.bin || m?.reads) {
      // The least of what the host sent and what this member declared (a group's call
      // carries what its greediest member reads).
      const mine = member.reads[hook as MessageHook] ?? "message";
      const sent = m.reads ?? "message";
      const reads = READS.indexOf(mine) < READS.indexOf(sent) ? mine : sent;
      const raw = bin ?? EMPTY;
      const size = m.size ?? raw.length;
      ctx.message = reads === "message"
        ? messageView(raw)
        : reads === "envelope"
        ? envelopeView(refusing(member, hook), size)
        // What the host sent as "headers" is the header block already.
        : messageView(sent === "headers" ? raw : raw.subarray(0, bodyOffset(raw)), {
          reads,
          size,
          denied: deniedText(member, hook, reads),
        });
    }
    return ctx;
  }

  /** Runs the call's members in order, as the host would (plugins/engine/chain.ts). */
  async #runCall(call: CallMsg, bin: Uint8Array | null): Promise<void> {
    try {
      // Not a rest copy: `#context` copies the fields anyway, and `score` and `results`
      // are set on each member's context after that.
      const fields = call.ctx;
      const { results: earlier, score } = fields;
      const hasMessage = (fields.message as { bin?: boolean } | undefined)?.bin === true;
      const state = new ChainState(
        hasMessage ? bin ?? EMPTY : undefined,
        Number(score ?? 0),
      );
      const entries: CallEntry[] = [];
      const payload: Uint8Array[] = [];
      for (const [k, p] of call.members.entries()) {
        const member = this.#members![p];
        if (!member) throw new Error(`no plugin #${p}`);
        const ctx = this.#context(member, call.hook, fields, state.message);
        ctx.score = state.score;
        ctx.results = state.results.length === 0
          ? earlier ?? []
          : [...(earlier as PluginResultSummary[] ?? []), ...state.results];
        // deliver: a mailbox an earlier plugin picked is the one later plugins see.
        if (state.mailbox !== undefined && "mailbox" in fields) ctx.mailbox = state.mailbox;
        // Whole ms are reported: Date.now() is enough, and cheaper than performance.now().
        const t0 = Date.now();
        let wire;
        let error: string | null = null;
        try {
          const pid = call.prepared?.[k];
          if (pid !== undefined && pid !== null) {
            const prepared = this.#prepared.get(pid);
            this.#prepared.delete(pid);
            if (prepared && !state.replaced) ctx.prepared = await prepared;
          }
          const fn = member.plugin.hooks[call.hook] as
            | ((c: unknown) => HookResult | void | Promise<HookResult | void>)
            | undefined;
          const r = fn ? fn(ctx) : undefined;
          // A hook that answers synchronously (most no-op and header checks) costs no
          // promise turn.
          const v = typeof (r as PromiseLike<unknown> | undefined)?.then === "function"
            ? await r
            : r as HookResult | void;
          wire = toWire(v ?? null);
        } catch (e) {
          const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          error = `hook threw: ${err.slice(0, 1000)}`;
        }
        const ms = Date.now() - t0;
        let checked;
        if (wire) {
          try {
            checked = checkResult(wire.checkable);
          } catch (e) {
            error = `bad result: ${(e as Error).message}`;
          }
        }
        if (error !== null || !checked || !wire) {
          entries.push({ ms, error: error ?? "no result" });
          if (state.failure(member.name, call.hook, error ?? "", member.onError, ms)) break;
          continue;
        }
        entries.push({ ms, result: wire.result });
        payload.push(...wire.payload);
        // The last member's changes are the host's to apply: skip the rewrite here.
        if (k === call.members.length - 1) break;
        if (state.answer(member.name, call.hook, checked, ms)) break;
      }
      await this.#send({ t: "result", id: call.id, entries }, payload);
    } catch (e) {
      const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      await this.#send({ t: "error", id: call.id, error: err.slice(0, 1000) });
    }
  }
}
