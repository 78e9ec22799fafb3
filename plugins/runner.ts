/**
 * The child side of a plugin: `deno run --no-prompt --allow-<granted> --preload <module>
 * plugins/runner.ts <module URL>`.
 *
 * The plugin module is given with `--preload`, so the Deno CLI loads it and its static
 * imports (the SDK, the plugin's own files) as part of the module graph, with no read
 * permission needed; the dynamic `import()` below then finds the already-loaded module.
 * The runner itself needs no permission at all: stdin and stdout are always open.
 *
 * Invariants:
 * - stdout carries only protocol lines; `console.*` is redirected to stderr so a plugin
 *   that logs cannot corrupt the channel (lines it writes to stdout directly before the
 *   redirect are ignored by the host).
 * - Calls run concurrently; each answer carries its call id.
 *
 * @module
 */
import type { CallMsg, HostToRunner, RunnerToHost, SvcOp, WireResult } from "./protocol.ts";
import { encodeLine, fromBase64, toBase64 } from "./protocol.ts";
import { type HookName, type HookResult, type PluginDefinition } from "./sdk.ts";
import { messageView } from "./message.ts";

const enc = new TextEncoder();
let writing: Promise<void> = Promise.resolve();

/** Writes one protocol line; lines never interleave. */
function send(msg: RunnerToHost): Promise<void> {
  const bytes = enc.encode(encodeLine(msg));
  writing = writing.then(async () => {
    let off = 0;
    while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
  });
  return writing;
}

function redirectConsole(): void {
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

// --- host services, reached by message ---
let nextSvcId = 1;
const pendingSvc = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

function svc(op: SvcOp, args: unknown[]): Promise<unknown> {
  const id = nextSvcId++;
  return new Promise((resolve, reject) => {
    pendingSvc.set(id, { resolve, reject });
    send({ t: "svc", id, op, args });
  });
}

const kv = {
  get: (key: string) => svc("kv.get", [key]) as Promise<string | null>,
  set: async (key: string, value: string, ttlMs?: number) => {
    await svc("kv.set", [key, value, ttlMs ?? null]);
  },
  incr: (key: string, by = 1, ttlMs?: number) =>
    svc("kv.incr", [key, by, ttlMs ?? null]) as Promise<number>,
  delete: async (key: string) => {
    await svc("kv.delete", [key]);
  },
};
const dns = {
  resolve: (name: string, type: string) => svc("dns.resolve", [name, type]) as Promise<unknown[]>,
};

// --- hooks ---
let plugin: PluginDefinition;
let pluginName = "";
let options: Record<string, unknown> = {};

function buildContext(call: CallMsg): Record<string, unknown> {
  const ctx: Record<string, unknown> = {
    ...call.ctx,
    hook: call.hook,
    plugin: pluginName,
    options,
    kv,
    dns,
  };
  const m = call.ctx.message as { raw?: string } | undefined;
  if (m && typeof m.raw === "string") ctx.message = messageView(fromBase64(m.raw));
  return ctx;
}

function toWire(r: HookResult | undefined | null): WireResult | null {
  if (r === undefined || r === null) return null;
  if (typeof r !== "object") throw new TypeError(`hook returned ${typeof r}, not an object`);
  const { body, message, ...rest } = r;
  const out: WireResult = { ...rest };
  if (body !== undefined) {
    out.bodyB64 = toBase64(typeof body === "string" ? enc.encode(body) : body);
  }
  if (message !== undefined) {
    out.messageB64 = toBase64(typeof message === "string" ? enc.encode(message) : message);
  }
  return out;
}

async function runCall(call: CallMsg): Promise<void> {
  const fn = plugin.hooks[call.hook] as
    | ((c: unknown) => HookResult | void | Promise<HookResult | void>)
    | undefined;
  try {
    const r = fn ? await fn(buildContext(call)) : undefined;
    await send({ t: "result", id: call.id, result: toWire(r ?? null) });
  } catch (e) {
    const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    await send({ t: "error", id: call.id, error: err.slice(0, 1000) });
  }
}

function handle(msg: HostToRunner): void {
  switch (msg.t) {
    case "call":
      runCall(msg);
      return;
    case "svc_ok":
    case "svc_err": {
      const p = pendingSvc.get(msg.id);
      if (!p) return;
      pendingSvc.delete(msg.id);
      if (msg.t === "svc_ok") p.resolve(msg.value);
      else p.reject(new Error(msg.error ?? "service failed"));
      return;
    }
    case "init":
      return; // only the first line is init
  }
}

/** Loads the plugin module and checks it was made by definePlugin. */
async function load(url: string): Promise<PluginDefinition> {
  const mod = await import(url);
  const def = mod.default as PluginDefinition | undefined;
  if (
    typeof def !== "object" || def === null || def.denomailPlugin !== 1 ||
    typeof def.hooks !== "object"
  ) {
    throw new Error("the module's default export is not a definePlugin({ hooks }) result");
  }
  return def;
}

async function main(): Promise<void> {
  redirectConsole();
  const url = Deno.args[0];
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buf = "";
  let initialised = false;
  for await (const chunk of lines) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === "") continue;
      const msg = JSON.parse(line) as HostToRunner;
      if (initialised) {
        handle(msg);
        continue;
      }
      if (msg.t !== "init") continue;
      pluginName = msg.name;
      options = msg.options ?? {};
      try {
        plugin = await load(url);
      } catch (e) {
        await send({ t: "fatal", error: e instanceof Error ? e.message : String(e) });
        Deno.exit(3);
      }
      initialised = true;
      await send({ t: "ready", hooks: Object.keys(plugin.hooks) as HookName[] });
    }
  }
  // stdin closed: the host is gone or is stopping us.
  await writing;
  Deno.exit(0);
}

if (import.meta.main) await main();
